-- tostring, concatenation and interning (table lookup) on 200,000 values.
local syms = {}
local acc = 0
for i = 0, 199999 do
  local s = "item-" .. tostring(i)
  syms[s] = true
  acc = acc + #s + 1
end
print(acc)
