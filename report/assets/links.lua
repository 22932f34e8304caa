-- Typst refuses to compile a link to a label the document does not have, where HTML would only
-- leave a dead link: an internal link whose target is not the id of anything in the document
-- (a figure's link to its row in an appendix that a project lays out without row ids, say)
-- keeps its text and loses the link, in the PDF only.

if not FORMAT:match("typst") then return {} end

local ids = {}

local function collect(el)
  if el.identifier and el.identifier ~= "" then ids[el.identifier] = true end
end

local function unlink_dead(link)
  local target = link.target:match("^#(.+)$")
  if target and not ids[target] then return link.content end
  return nil
end

return {
  { Span = collect, Div = collect, Header = collect, Table = collect, Figure = collect,
    Image = collect, Code = collect, CodeBlock = collect, Link = collect },
  { Link = unlink_dead },
}
