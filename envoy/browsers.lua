-- What browsers and Connect clients need beside the REST rules (docs/browsers.md), read by
-- the `browsers` filter of envoy.yaml from the file beside it.

-- CORS: the origins a web page may call findsvc from, from the sidecar's environment
-- (CORS_ALLOWED_ORIGINS): space-separated, "scheme://host[:port]" or "scheme://host:*" for
-- any port. Unset or empty: none. Read once, when Envoy loads this file.
local EXACT, ANY_PORT = {}, {}
for origin in (os.getenv("CORS_ALLOWED_ORIGINS") or ""):gmatch("%S+") do
  local host = origin:match("^(.*):%*$")
  if host then ANY_PORT[host] = true else EXACT[origin] = true end
end

local function listed(origin)
  if EXACT[origin] then return true end
  local host, port = origin:match("^(.*):(%d+)$")
  return ANY_PORT[origin] or (host ~= nil and ANY_PORT[host] == true and #port <= 5)
end

-- Connect's names of the gRPC status codes (connectrpc.com/docs/protocol#error-codes).
local CONNECT_CODES = {
  "canceled", "unknown", "invalid_argument", "deadline_exceeded", "not_found",
  "already_exists", "permission_denied", "resource_exhausted", "failed_precondition",
  "aborted", "out_of_range", "unimplemented", "internal", "unavailable", "data_loss",
  "unauthenticated",
}

-- Per-request state the response side reads back.
local STATE = "findsvc.browsers"

function envoy_on_request(handle)
  local headers = handle:headers()
  -- An origin not listed is dropped here, so the CORS filter after this one treats the
  -- request as a same-origin one: no Access-Control-Allow-Origin, and a preflight is a 404.
  local origin = headers:get("origin")
  if origin ~= nil and not listed(origin) then headers:remove("origin") end
  -- A Connect JSON call goes through the transcoder (the proto's additional_bindings), not
  -- through the Connect bridge, which would hand findsvc JSON as if it were protobuf; the
  -- x-findsvc-connect header picks its route (no REST body rules).
  headers:remove("x-findsvc-connect")
  local content_type = headers:get("content-type") or ""
  if headers:get("connect-protocol-version") ~= nil and content_type:find("^application/json") then
    headers:remove("connect-protocol-version")
    headers:add("x-findsvc-connect", "json")
    handle:streamInfo():dynamicMetadata():set(STATE, "connect", "json")
    handle:clearRouteCache()
  end
  -- The Connect bridge would hand findsvc a JSON GET as if it were protobuf: refused (415,
  -- its body from envoy.yaml), as Connect says of a codec a server does not take.
  local path = headers:get(":path")
  if headers:get(":method") == "GET" and path:find("^/glarimy%.ums%.find%.v1%.FindService/")
      and path:find("[?&]encoding=json") then
    handle:respond({[":status"] = "415"}, "")
    return
  end
  local etags = headers:get("if-none-match")
  if etags ~= nil and headers:get(":method") == "GET" then
    handle:streamInfo():dynamicMetadata():set(STATE, "if_none_match", etags)
  end
end

-- Whether an If-None-Match list names this ETag (weak comparison, RFC 9110 13.1.2).
local function names(etags, etag)
  for each in etags:gmatch("[^,]+") do
    local candidate = each:gsub("^%s*W/", ""):gsub("^%s+", ""):gsub("%s+$", "")
    if candidate == "*" or candidate == etag:gsub("^W/", "") then return true end
  end
  return false
end

-- A transcoder error, {"code":5,"message":"...","details":[...]}, as Connect writes one:
-- {"code":"not_found","message":"..."} (the HTTP status is already Connect's).
local function connect_error(body)
  local code = tonumber(body:match('^{"code":(%d+)'))
  local message = body:match('"message":"(.-)","details"') or ""
  return string.format('{"code":"%s","message":"%s"}', CONNECT_CODES[code] or "unknown", message)
end

function envoy_on_response(handle)
  local state = handle:streamInfo():dynamicMetadata():get(STATE) or {}
  local headers = handle:headers()
  local status = headers:get(":status")
  -- If-None-Match with the ETag findsvc sent: 304, no body (RFC 9110 13.1.2).
  local etag = headers:get("etag")
  if status == "200" and state.if_none_match ~= nil and etag ~= nil
      and names(state.if_none_match, etag) then
    headers:replace(":status", "304")
    headers:remove("content-type")
    headers:remove("content-length")
    handle:body():setBytes("")
    return
  end
  if state.connect == "json" and status ~= "200" then
    local body = handle:body()
    body:setBytes(connect_error(body:getBytes(0, body:length())))
  end
end
