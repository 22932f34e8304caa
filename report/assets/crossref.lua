-- Numbers figures and tables, resolves @fig-x / @tbl-x / @sec-x references, styles banners, and
-- keeps a figure whose image is damaged as a numbered figure that says so.
-- HTML: "Figure 3: caption" prefixes and "Figure 3" / "Section 2.1" links, each in a span the checks exempt.
-- Typst: typst numbers figures and headings itself; references become native @label references.
-- A reference to an unnumbered heading (.unnumbered) links to it by its title in both.
-- report/crossref.py refuses an unknown label before pandoc runs; one that gets here stops pandoc.

local kinds = { fig = "Figure", tbl = "Table", sec = "Section" }
local numbers = {}
local titles = {}  -- sections without a number, referred to by their title
local counters = { fig = 0, tbl = 0 }
local is_typst = FORMAT:match("typst") ~= nil

local function kind_of(id)
  local prefix = id and id:match("^(%a+)%-")
  return prefix and kinds[prefix] and prefix or nil
end

local function label_span(text)
  return pandoc.Span({ pandoc.Str(text) }, { class = "xref-label" })
end

local function number(el)
  local prefix = kind_of(el.identifier)
  if not counters[prefix] then return nil end  -- not a figure or table label (a heading's sec-)
  counters[prefix] = counters[prefix] + 1
  numbers[el.identifier] = kinds[prefix] .. " " .. counters[prefix]
  if is_typst then return nil end
  local caption = el.caption.long
  if #caption > 0 and caption[1].content then
    table.insert(caption[1].content, 1, label_span(numbers[el.identifier] .. ": "))
  else
    el.caption.long = { pandoc.Plain({ label_span(numbers[el.identifier]) }) }
  end
  return el
end

-- Headings are numbered as pandoc's --number-sections numbers them in the HTML (and typst in the PDF).
local function number_sections(doc)
  local sections = pandoc.structure.make_sections(doc.blocks, { number_sections = true })
  pandoc.Blocks(sections):walk({ Div = function(div)
    if kind_of(div.identifier) ~= "sec" then return nil end
    if div.attributes.number then
      numbers[div.identifier] = "Section " .. div.attributes.number
    else
      titles[div.identifier] = pandoc.utils.stringify(div.content[1].content)
    end
  end })
end

local function reference(cite)
  local id = cite.citations[1].id
  if not kind_of(id) then return nil end
  if titles[id] then return pandoc.Link({ label_span(titles[id]) }, "#" .. id) end
  if not numbers[id] then error("unknown cross-reference @" .. id .. ": nothing has that label", 0) end
  if is_typst then return pandoc.RawInline("typst", "@" .. id) end
  return pandoc.Link({ label_span(numbers[id]) }, "#" .. id)
end

local function banner(div)
  if not (div.classes:includes("banner") or div.classes:includes("placeholder")) then return nil end
  if is_typst then
    return {
      pandoc.RawBlock("typst", "#block(fill: rgb(\"#fff3cd\"), stroke: rgb(\"#d39e00\"), inset: 8pt, radius: 4pt, width: 100%)["),
      div,
      pandoc.RawBlock("typst", "]"),
    }
  end
  return nil
end

-- A figure whose stored image is damaged comes as a Div (the reason, then the caption): it
-- becomes a figure without an image, so its number and the references to it stay.
local function missing_figure(div)
  if not div.classes:includes("missing-figure") then return nil end
  local body = pandoc.Blocks({ table.unpack(div.content, 1, #div.content - 1) })
  return pandoc.Figure(body, { long = { div.content[#div.content] } }, div.attr)
end

-- Typst links need a label on an element; a number inside a heading has none, so the
-- appendix's links to numbers stay plain text in the PDF.
local function number_link(link)
  if is_typst and link.target:match("^#n%d+$") then return link.content end
  return nil
end

return {
  { Div = missing_figure },
  { Figure = number, Table = number, Div = banner, Link = number_link },
  { Pandoc = number_sections },
  { Cite = reference },
}
