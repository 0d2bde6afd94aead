# Helpers shared by the bench scripts that run the whole AppHost. Source it from the repository's root; the
# functions read $apphost (the AppHost's pid), $log (its output) and, for sign-in, $gateway, $web, $secret (the
# web client's secret the script passed as a parameter) and $data (a scratch directory).

# Waits for the AppHost's "Ready:" line; prints its output and fails if it exits or reports problems first.
wait_for_ready() {
  until grep -qs "Ready:" "$log"; do
    if ! kill -0 "$apphost" 2>/dev/null || grep -qs "Started with problems" "$log"; then cat "$log" >&2; exit 1; fi
    sleep 0.1
  done
}

# The URL the AppHost printed for an external endpoint: external_url gateway
external_url() {
  grep -oE "$1: http://[^ ]+" "$log" | head -1 | cut -d' ' -f2
}

# A variable of a resource's environment, as the AppHost gave it (internal services have no printed URL):
# resource_env products ASPNETCORE_URLS
resource_env() {
  local p
  for p in $(pgrep -P "$apphost"; for c in $(pgrep -P "$apphost"); do pgrep -P "$c"; done); do
    if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OTEL_SERVICE_NAME=$1"; then
      tr '\0' '\n' <"/proc/$p/environ" | sed -n "s/^$2=//p"
      return
    fi
  done
  echo "no process for $1" >&2
  exit 1
}

# Points psql (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) at a resource's database: use_database_of products productsdb
use_database_of() {
  local connection_string
  connection_string=$(resource_env "$1" "ConnectionStrings__$2")
  part() { tr ';' '\n' <<<"$connection_string" | sed -n "s/^$1=//Ip"; }
  export PGHOST=$(part Host) PGPORT=$(part Port) PGUSER=$(part Username) PGPASSWORD=$(part Password) PGDATABASE=$(part Database)
}

# An access token as the storefront gets one: authorization code with PKCE through the gateway and the identity
# service's sign-in form. access_token customer@example.com 'Customer#2026' 'openid%20ordering'
access_token() { # $1 e-mail, $2 password, $3 scopes (URL-encoded)
  local jar verifier challenge redirect authorize login_page login_url antiforgery return_url form_post code
  jar=$(mktemp -p "$data")
  verifier=$(openssl rand -base64 48 | tr '+/' '-_' | tr -d '=\n')
  challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | openssl base64 | tr '+/' '-_' | tr -d '=\n')
  redirect="$web/signin-oidc"
  authorize="$gateway/connect/authorize?client_id=web&response_type=code&response_mode=form_post&scope=$3&state=bench&code_challenge=$challenge&code_challenge_method=S256&redirect_uri=$(printf '%s' "$redirect" | sed 's/:/%3A/g; s#/#%2F#g')"
  login_page=$(curl -s -L -c "$jar" -b "$jar" -w '\n%{url_effective}' "$authorize")
  login_url=$(tail -1 <<<"$login_page")
  antiforgery=$(grep -oE 'name="__RequestVerificationToken" type="hidden" value="[^"]+"' <<<"$login_page" | sed 's/.*value="//; s/"$//')
  return_url=$(grep -oE 'name="ReturnUrl" value="[^"]+"' <<<"$login_page" | sed 's/.*value="//; s/"$//; s/&amp;/\&/g')
  form_post=$(curl -s -L -c "$jar" -b "$jar" "$login_url" --data-urlencode "Input.Email=$1" --data-urlencode "Input.Password=$2" \
    --data-urlencode "__RequestVerificationToken=$antiforgery" --data-urlencode "ReturnUrl=$return_url")
  code=$(grep -oE 'name="code" value="[^"]+"' <<<"$form_post" | sed 's/.*value="//; s/"$//')
  [[ -n $code ]] || { echo "sign-in of $1 failed: no authorization code" >&2; exit 1; }
  curl -s "$gateway/connect/token" -d grant_type=authorization_code --data-urlencode "code=$code" \
    --data-urlencode "redirect_uri=$redirect" -d client_id=web --data-urlencode "client_secret=$secret" \
    --data-urlencode "code_verifier=$verifier" | sed -n 's/.*"access_token": *"\([^"]*\)".*/\1/p'
}

# The warnings and errors the services logged while the dashboard ran, counted by resource and by message (ids and
# numbers masked), most frequent first: a run that retried, timed out or failed over shows it here. Needs the dashboard.
service_warnings() {
  local login token
  login=$(external_url dashboard || true)
  [[ -n $login ]] || { echo "(no dashboard: warnings not collected)"; return; }
  token=${login##*t=}
  curl -fsS -H "Authorization: Bearer $token" "${login%%/login*}/api/telemetry/logs?level=Warning&limit=10000" | python3 -c '
import json, re, sys, collections
body = json.load(sys.stdin)
logs, stored = body["logs"], body["totalStored"]
mask = lambda m: re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}|\d+(\.\d+)?", "#", m)[:160]
by_resource = collections.Counter(l["resource"].split("/")[0] for l in logs)
print(f"{len(logs)} warnings and errors among the {stored} log entries the dashboard kept"
      + (": " + ", ".join(f"{r} {n}" for r, n in by_resource.most_common()) if logs else "."))
for (resource, message), n in collections.Counter((l["resource"].split("/")[0], mask(l["message"])) for l in logs).most_common(8):
    print(f"- {n} × {resource}: {message}")
'
}

# Seconds until an access token (a JWT) expires. A benchmark that outlives its token would go on measuring an anonymous
# route with an expired one: still answered 200, but the gateway then treats the caller as anonymous, not as the user.
token_seconds_left() { # $1 token
  python3 -c 'import base64, json, sys, time; p = sys.argv[1].split(".")[1]; p += "=" * (-len(p) % 4); print(int(json.loads(base64.urlsafe_b64decode(p))["exp"] - time.time()))' "$1"
}
