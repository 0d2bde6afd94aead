-- Every request asks for a catalog page the cache has never seen: the same cheapest-first page, but with a minimum
-- price (below every product's) that no other request of the run uses. The products service answers it from the
-- database and stores it in both cache levels, as it does for any first read.
-- wrk ... -s unique-pages.lua -- <round>
local counter = 0
local base = 0

function init(args)
  base = tonumber(args[1] or "1") * 100000000
end

function request()
  counter = counter + 1
  return wrk.format("GET", string.format("/api/products/items?pageIndex=0&pageSize=10&sort=price&minPrice=0.%09d", base + counter))
end
