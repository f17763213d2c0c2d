#!/bin/sh
# The Tuya configuration in `info` and after `read`: the section, the key
# list with its masking, the OpenBeken template, damaged and cut stores,
# the options' scope. data/tuya-synthetic.bin is a synthetic store (built
# with tests/unit/tuya_build.c) with planted secrets; checks assert that
# they are absent from output, and never print them.
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/cli/lib.sh
. "$here/lib.sh"

store=$here/data/tuya-synthetic.bin
secrets='planted-secret-42|PlantedNet|planted-authkey-99|planted-uuid-77'

# no_secrets NAME: neither stdout nor stderr of the last run holds one.
no_secrets() {
	if grep -Eq -- "$secrets" out.txt err.txt; then
		fail "$1" "a planted secret was printed"
	else
		pass
	fi
}

newcase info
run info "$store"
expect_rc 0 "info on a store"
expect_stdout_match "store line" '^tuya +key-value store at 0x1EE000 \(file offset 0x000000\): 4 pages, 4 keys \(4 with a good checksum\)$'
expect_stdout_match "module" '^module +CB2S$'
expect_stdout_match "relay pin" '^ +P26 +relay +1 +1 +rl1_pin$'
expect_stdout_match "button pin" '^ +P10 +button +1 +0 +bt1_pin$'
expect_stdout_match "level absent" '^ +P7 +power_cf +0 +- +ele_pin$'
no_secrets "info prints no secret"

run info --json "$store"
expect_rc 0 "info --json"
expect_json_object "info --json is one object"
expect_json "json found" .tuya.found true
expect_json "json offset" .tuya.offset 0
expect_json "json pages" .tuya.pages 4
expect_json "json entries" .tuya.entries 4
expect_json "json entries_good" .tuya.entries_good 4
expect_json "json module" .tuya.module CB2S
if [ -n "$json_tool" ]; then
	got=$(python3 -c '
import json, sys
d = json.load(open("out.txt"))["tuya"]["pins"]
p = [x for x in d if x["key"] == "rl1_pin"][0]
print(len(d), p["gpio"], p["role"], p["channel"], p["level"])' 2>/dev/null)
	check "json pins" "pins are '$got'" [ "$got" = "6 26 relay 1 1" ]
fi
no_secrets "info --json prints no secret"

newcase keys
run info --tuya-keys "$store"
expect_rc 0 "--tuya-keys"
expect_stdout_match "key list: config shown" '^tuya key +user_param_key +148 bytes +good +\{Jsonver'
expect_stdout_match "key list: secret masked" '^tuya key +gw_wsm +50 bytes +good +\(secret'
no_secrets "--tuya-keys masks secrets"
run info --tuya-keys --json "$store"
expect_rc 0 "--tuya-keys --json"
expect_json_object "--tuya-keys --json is one object"
no_secrets "--tuya-keys --json masks secrets"
run info --tuya-keys --show-secrets "$store"
expect_rc 0 "--show-secrets"
# Asserted without printing it: grep -q only.
check "--show-secrets shows them" "the planted password is missing" grep -q 'planted-secret-42' out.txt
: >out.txt

newcase template
run info --obk-template dev.json "$store"
expect_rc 0 "--obk-template"
check "template written" "dev.json missing" [ -s dev.json ]
check "template relay" "no Rel;1 on 26" grep -q '"26": "Rel;1"' dev.json
check "template button" "no Btn;1 on 10" grep -q '"10": "Btn;1"' dev.json
check "template wifi led" "no WifiLED_n;0 on 8" grep -q '"8": "WifiLED_n;0"' dev.json
check "template power meter" "no BL0937 driver" grep -q '"command": "startDriver BL0937"' dev.json
check "template module" "no board" grep -q '"board": "CB2S"' dev.json
check "template has no secret" "a secret in the template" sh -c "! grep -Eq '$secrets' dev.json"
if [ -n "$json_tool" ]; then
	check "template is JSON" "dev.json does not parse" sh -c 'cp dev.json out.txt && python3 -c "import json; json.load(open(\"dev.json\"))"'
fi
expect_usage_error "template exists" 'exists' -- info --obk-template dev.json "$store"
run info --obk-template dev.json --force "$store"
expect_rc 0 "--force replaces the template"
mkimg plain.bin 8192 random
expect_usage_error "template without a store" 'no Tuya pin configuration' -- info --obk-template none.json plain.bin
check "no template without a store" "none.json written" [ ! -e none.json ]

newcase damaged
cp "$store" bad.bin
poke bad.bin 5000 '\125'
run info --json bad.bin
expect_rc 0 "damaged store: info still works"
expect_json "damaged page counted" .tuya.pages_bad 1
run info bad.bin
expect_stdout_match "damage reported" '^tuya +DAMAGED: 1 pages'
head -c 6000 "$store" >cut.bin
run info --json cut.bin
expect_rc 0 "cut store: info still works"
expect_json "cut store found" .tuya.found true
expect_json "cut store pages" .tuya.pages 1
head -c 3000 "$store" >cut2.bin
run info --json cut2.bin
expect_rc 0 "store cut inside its key page"
expect_json "no store in a cut key page" .tuya.found false
cp "$store" badkey.bin
poke badkey.bin 1 '\125'
run info --json badkey.bin
expect_rc 0 "bad key page: info still works"
expect_json "bad key page: not decrypted" .tuya.found false

newcase scope
expect_usage_error "--tuya-keys on read" 'does not apply to read \(only to info\)' -- -p sim read x.bin --tuya-keys
expect_usage_error "--show-secrets alone" 'info --tuya-keys only' -- info --show-secrets "$store"
expect_usage_error "--obk-template on write" 'only to read and info' -- write "$store" --obk-template t.json
expect_usage_error "--obk-template on detect" 'only to read and info' -- detect --obk-template t.json

# A real dump through the simulator: read's summary line and the template
# next to the backup.
moes=$DUMPS/bk7231n-moes-wk-us2-tc-outlet.bin
if [ -f "$moes" ]; then
	newcase read
	cp "$moes" img.bin
	chmod u+w img.bin
	sim read --obk-template moes.json
	expect_rc 0 "read --obk-template"
	expect_stdout_match "read: tuya summary" '^tuya +module CB2S; P6 relay 3, P7 relay 4, P8 relay 2, P10 wifi_led 1, P11 button 1, P24 button 2, P26 relay 1$'
	check "read: template beside the backup" "backups/moes.json missing" [ -s backups/moes.json ]
	check "read: template chip" "no BK7231N" grep -q '"chip": "BK7231N"' backups/moes.json
	sim read out.bin --json --obk-template sub/moes.json
	expect_rc 2 "read: template into a missing folder fails"
	check "read: backup kept when the template fails" "out.bin missing" [ -s out.bin ]
	for f in "$DUMPS"/*.bin; do
		run info --json "$f"
		expect_rc 0 "info $(basename "$f")"
		expect_json "tuya found in $(basename "$f")" .tuya.found true
	done
else
	skip "dumps" "$DUMPS not found"
fi
finish
