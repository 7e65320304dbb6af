-- Count the solutions of the 9-queens problem with cons lists.
local function ok(row, dist, placed)
  while placed do
    local q = placed[1]
    if q == row + dist or q == row - dist or q == row then return false end
    dist = dist + 1
    placed = placed[2]
  end
  return true
end
local queens
local function try_rows(n, row, placed, k)
  if row > n then return 0 end
  local here = 0
  if ok(row, 1, placed) then here = queens(n, {row, placed}, k - 1) end
  return here + try_rows(n, row + 1, placed, k)
end
queens = function(n, placed, k)
  if k == 0 then return 1 end
  return try_rows(n, 1, placed, k)
end
print(queens(9, nil, 9))
