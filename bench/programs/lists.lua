-- Build, map and sum a 1,000,000-element cons list, ten times.
local function iota_list(n)
  local acc = nil
  for i = n - 1, 0, -1 do acc = {i, acc} end
  return acc
end
local function sum(l) local acc = 0 while l do acc = acc + l[1]; l = l[2] end return acc end
local function reverse(l) local acc = nil while l do acc = {l[1], acc}; l = l[2] end return acc end
local function double_all(l)
  local acc = nil
  while l do acc = {2 * l[1], acc}; l = l[2] end
  return reverse(acc)
end
local total = 0
for _ = 1, 10 do total = total + sum(double_all(iota_list(1000000))) end
print(total)
