local function count_up(n)
  local function loop(i, acc)
    if i < n then return loop(i + 1, acc + 1) end
    return acc
  end
  return loop(0, 0)
end
print(count_up(10000000))
