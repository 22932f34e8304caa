-- Tables that fit the page, in both outputs.
-- Column widths: pandoc takes a pipe table's widths from the dashes of its separator line as soon
-- as one of its lines is long, which squeezes a label column to a few letters; every table is
-- sized by its content instead, except one that asks for its dashes' widths (class "widths").
-- Long inline code in a table cell (a result path) gets a break opportunity after each dot,
-- bracket or underscore (and every ten letters of a word of twenty or more): typst never breaks
-- inside a word and would print it over the next column, a browser would widen the page. In
-- typst a "widths" table is also set smaller, and any long word in it gets the same breaks.

local is_typst = FORMAT:match("typst") ~= nil
local ZWSP = "\u{200B}"

-- ``text`` with ``mark`` every ten letters of a word of twenty or more (a commit hash, say).
local function break_long_words(text, mark)
  return (text:gsub("%w+", function(word)
    if #word < 20 then return word end
    return (word:gsub(("%w"):rep(10), "%0" .. mark))
  end))
end

-- ... and after each dot, bracket, underscore, colon, slash or parenthesis, and before each
-- opening bracket: the places to break a result path.
local function breakable(text, mark)
  local broken = break_long_words(text, mark)
  return (broken:gsub("([%.%]_:/%(%)])", "%1" .. mark):gsub("(.)%[", "%1" .. mark .. "["))
end

local function escape_html(text)
  return (text:gsub("&", "&amp;"):gsub("<", "&lt;"):gsub(">", "&gt;"))
end

-- Typst: a zero-width space; HTML: <wbr>, which a reader copying the path does not copy.
local function breakable_code(code)
  if is_typst then
    code.text = breakable(code.text, ZWSP)
    return code
  end
  -- keep the classes: {.literal} tells the typed-number guard that the code holds no result
  local class = #code.classes > 0 and (' class="' .. table.concat(code.classes, " ") .. '"') or ""
  return pandoc.RawInline("html", "<code" .. class .. ">" .. breakable(escape_html(code.text), "<wbr>") .. "</code>")
end

local function fit(tbl)
  local fixed = tbl.classes:includes("widths")
  if not fixed then
    for i, spec in ipairs(tbl.colspecs) do
      tbl.colspecs[i] = { spec[1], nil }
    end
  end
  tbl = tbl:walk({ Code = breakable_code })
  if not is_typst or not fixed then return tbl end
  tbl = tbl:walk({ Str = function(str) str.text = break_long_words(str.text, ZWSP); return str end })
  return {
    pandoc.RawBlock("typst", "#[#set text(size: 0.85em)"),
    tbl,
    pandoc.RawBlock("typst", "]"),
  }
end

-- Typst rules for every table: plain words, and a caption (set above a table) that stays on
-- the page of the table's first rows instead of ending a page on its own.
local TYPST_TABLE_RULES = [[
#show table: set text(hyphenate: false)
#show table: set par(justify: false)
#show figure.caption.where(kind: table): it => block(sticky: true, it)
]]

local function table_rules(doc)
  if is_typst then
    doc.blocks:insert(1, pandoc.RawBlock("typst", TYPST_TABLE_RULES))
  end
  return doc
end

return {
  { Table = fit },
  { Pandoc = table_rules },
}
