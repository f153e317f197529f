#!/usr/bin/env python3
"""LogQL conformance cases: dataset and case list generator, recorder and checker.

The conformance suite (tests/server/logql_conformance_test.cc) pushes a fixed dataset into an
in-process Skald and runs every case in testdata/logql/conformance/cases.jsonl, comparing the
answer with the expectation stored in the case. Expectations were obtained by asking a real
Grafana Loki the same query over the same data (observed behaviour, recorded as facts); a case
may carry a "note" where Skald deliberately differs (then "want" is Skald's decided answer and
"loki" what Loki said), or a "divergence": Loki's answer is kept as "want" and the text says
how Skald differs today (a known gap; the test requires it to keep differing until fixed).

Subcommands (none of them is used by the tests):
  gen                      write dataset.json and the case list (keeps recorded expectations
                           of cases whose definition did not change)
  record URL [--only ID]   push the dataset into the server at URL (a Loki), run every case and
                           store its normalized answer as the expectation
  check URL                push the dataset into the server at URL and compare every answer
                           with the stored expectation (prints a diff per failing case)

Times in the dataset and in the cases are relative to a base: the start of the previous hour,
so the data (one hour of it, base to base+1h) is younger than Loki's max_chunk_age (2h: older
chunks get flushed, and a fresh Loki answers them from its store only once the index is
shipped) and no query reaches into the future; every step of
the cases divides an hour, so step alignment does not depend on the base. The test does the
same, so expectations (stored relative to the base) do not depend on when they were taken.
Record against a fresh Loki (empty data directory): pushing the dataset again at another base
would be rejected as out of order.
"""
import gzip
import json
import random
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "testdata" / "logql" / "conformance"
DATASET = HERE / "dataset.json"
CASES = HERE / "cases.jsonl"
NS = 1_000_000_000


def base_seconds(now=None):
    now = int(now if now is not None else time.time())
    return (now // 3600) * 3600 - 3600


# ---------------------------------------------------------------------------------------------
# dataset

def gen_dataset():
    rnd = random.Random(20261205)
    streams = []

    def add(labels, entries):
        streams.append({"stream": labels, "values": entries})

    levels = ["info", "info", "info", "warn", "error", "debug"]
    methods = ["GET", "GET", "POST", "DELETE", "PUT"]
    paths = ["/api/users", "/api/orders", "/login", "/health", "/api/users/42"]
    statuses = [200, 200, 200, 201, 302, 404, 500, 503]
    durations = ["3ms", "12ms", "250us", "1.25s", "1m2s", "450ms", "0.5s", "75ms"]
    sizes = ["512B", "1.5KB", "2MB", "17KiB", "900B", "3.2kB"]
    clients = ["10.0.0.5", "10.0.0.17", "192.168.1.10", "192.168.1.200", "2001:db8::1", "172.16.4.4"]

    # logfmt web servers
    for host, off in (("h1", 7), ("h2", 23)):
        entries = []
        for i in range(60):
            t = off + i * 60
            lvl = rnd.choice(levels)
            line = (f'level={lvl} method={rnd.choice(methods)} path={rnd.choice(paths)} '
                    f'status={rnd.choice(statuses)} duration={rnd.choice(durations)} '
                    f'size={rnd.choice(sizes)} client={rnd.choice(clients)} '
                    f'msg="request {i} served" user={rnd.choice(["alice", "bob", ""])}')
            if i % 17 == 5:
                line = f'level={lvl} msg="odd line" =broken status=abc duration=fast'
            if i % 23 == 11:
                line = f'level={lvl} level=override msg="dup keys" status=418 status=200'
            entries.append([str(t * NS + i), line])
        add({"app": "web", "env": "prod", "host": host, "job": "nginx"}, entries)

    # JSON API
    entries = []
    for i in range(50):
        t = 31 + i * 70
        obj = {
            "level": rnd.choice(levels),
            "status": rnd.choice(statuses),
            "latency_ms": round(rnd.uniform(0.5, 900.0), 3),
            "req": {"method": rnd.choice(methods), "path": rnd.choice(paths),
                    "headers": {"user-agent": rnd.choice(["curl/8.1", "Go-http-client/1.1"])}},
            "tags": rnd.sample(["a", "b", "c", "d"], 2),
            "user": rnd.choice(["alice", "bob", "carol"]),
            "msg": rnd.choice(["ok", "line with \"quotes\"", "tab\there", "uni \u00e9\u00e8 \u2603"]),
        }
        line = json.dumps(obj, separators=(",", ":"))
        if i % 13 == 7:
            line = '{"level":"error","status":500,"msg":"truncated'
        if i % 19 == 3:
            line = '[1,2,3]'
        if i % 21 == 10:
            line = json.dumps({"level": "info", "nested": {"deep": {"er": [1, {"x": "y"}]}},
                               "n": None, "b": True, "f": 1.5e3})
        entries.append([str(t * NS), line])
    add({"app": "api", "env": "prod", "cluster": "eu"}, entries)

    # JSON API with structured metadata (a key equal to a stream label, too)
    entries = []
    for i in range(30):
        t = 45 + i * 118
        obj = {"level": rnd.choice(levels), "status": rnd.choice(statuses),
               "latency_ms": rnd.randint(1, 2000), "user": rnd.choice(["alice", "bob"])}
        md = {"trace_id": f"{rnd.getrandbits(64):016x}", "user": rnd.choice(["alice", "bob"])}
        if i % 4 == 0:
            md["env"] = "from-metadata"
        entries.append([str(t * NS), json.dumps(obj, separators=(",", ":")), md])
    add({"app": "api", "env": "prod", "cluster": "us"}, entries)

    # plain text database log
    entries = []
    words = ["connection refused", "slow query", "checkpoint complete", "deadlock detected",
             "autovacuum started", "connection accepted"]
    for i in range(40):
        t = 13 + i * 90
        lvl = rnd.choice(["INFO", "WARN", "ERROR", "info"])
        line = (f'2024-01-02 03:{i % 60:02d}:05 {lvl} [pool-{rnd.randint(1, 4)}] '
                f'{rnd.choice(words)} from {rnd.choice(clients)} after {rnd.randint(0, 9)} retries')
        entries.append([str(t * NS), line])
    add({"app": "db", "env": "dev"}, entries)

    # ANSI colours
    entries = []
    for i in range(20):
        t = 100 + i * 170
        col = rnd.choice(["31", "32", "33;1"])
        line = f'\x1b[{col}m{rnd.choice(["ERROR", "INFO", "WARN"])}\x1b[0m disk {rnd.randint(50, 99)}% full on /dev/sda{i % 3}'
        entries.append([str(t * NS), line])
    add({"app": "color", "env": "dev"}, entries)

    # logfmt with a key equal to a stream label
    entries = []
    for i in range(20):
        t = 57 + i * 175
        line = (f'level={rnd.choice(levels)} host=h3 status={rnd.choice(statuses)} '
                f'app=shadow duration={rnd.choice(durations)}')
        entries.append([str(t * NS), line])
    add({"app": "web", "env": "staging", "host": "h3", "level": "debug"}, entries)

    # a counter with a reset, for rate_counter
    entries = []
    v = 100
    for i in range(60):
        t = 30 + i * 60
        v = 5 if i == 33 else v + rnd.randint(0, 40)
        entries.append([str(t * NS), f'requests_total={v} bytes_total={v * 1024} gauge={rnd.uniform(-5, 5):.3f}'])
    add({"app": "counter", "env": "prod"}, entries)
    return {"streams": streams}


# ---------------------------------------------------------------------------------------------
# cases

def gen_cases():
    cases = []

    def case(group, query, kind, **params):
        cases.append({"group": group, "query": query, "kind": kind, **params})

    R = dict(start=0, end=3600)  # the whole dataset
    sels = ['{app="web"}', '{app="api"}', '{app="db"}', '{app="web", host="h1"}',
            '{env=~"prod|dev"}', '{app!="web", env="prod"}', '{app=~"c.*"}', '{app="api", cluster!~"e.*"}',
            '{app="nope"}']

    # --- log queries: selectors, directions, limits, ranges
    for s in sels:
        case("selector", s, "range", limit=1000, direction="forward", **R)
    for d in ("forward", "backward"):
        for lim in (1, 7, 100):
            case("limit-direction", '{app="web"}', "range", limit=lim, direction=d, **R)
    case("time-range", '{app="db"}', "range", start=600, end=1200, limit=1000, direction="forward")
    case("time-range", '{app="db"}', "range", start=13, end=103, limit=1000, direction="forward")
    case("time-range", '{app="web"}', "range", start=3000, end=3000, limit=1000, direction="forward")

    # --- line filters
    lfs = ['|= "error"', '!= "error"', '|~ "status=5.."', '!~ "GET|POST"', '|= "GET" |= "/login"',
           '|~ "(?i)ERROR"', '|= "" ', '|~ ".*"', '|= `"quotes\\"`', '|= ip("10.0.0.0/24")',
           '!= ip("192.168.1.10")', '|= ip("2001:db8::/32")', '|> "<_> method=GET <_>"',
           '!> "<_> status=200 <_>"', '|= "error" or "warn"', '|~ "a|b|c"', '|= "connection" != "refused"',
           '|~ "retr(y|ies)$"', '|= "é"', '|= "\\u2603"', '|> "level=<_> method=<_> path=/login <_>"']
    for lf in lfs:
        case("line-filter", '{env=~".+"} ' + lf, "range", limit=1000, direction="forward", **R)

    # --- parsers and label filters (log queries)
    pipes = [
        '| logfmt', '| logfmt | status >= 500', '| logfmt | status=~"5.."', '| logfmt | duration > 1s',
        '| logfmt | size > 1KB', '| logfmt | level="error" or level="warn"',
        '| logfmt | level!="info", status<400', '| logfmt | (status=200 or status=201) and method="GET"',
        '| logfmt | client=ip("10.0.0.0/8")', '| logfmt | client!=ip("10.0.0.5-10.0.0.20")',
        '| logfmt --strict', '| logfmt --keep-empty', '| logfmt --strict --keep-empty',
        '| logfmt status, p="path"', '| logfmt | __error__=""', '| logfmt | __error__!=""',
        '| logfmt | drop __error__, __error_details__', '| logfmt | user=""', '| logfmt | user!=""',
        '| logfmt | keep level, status', '| logfmt | drop level, status, method',
        '| logfmt | drop level="info"', '| logfmt | status > 300 | line_format "{{.method}} {{.path}} -> {{.status}}"',
        '| logfmt | label_format lvl=level', '| logfmt | label_format up="{{ .level | upper }}"',
        '| logfmt | label_format path=`{{ regexReplaceAll "/api/" .path "" }}`',
        '| logfmt | line_format "{{ __line__ | len }} {{ __timestamp__ | date \\"04:05\\" }}"',
        '| logfmt | line_format `{{ if eq .status "500" }}boom{{ else }}{{ .status }}{{ end }}`',
        '| logfmt | line_format "{{ default \\"none\\" .user }}"',
        '| logfmt | line_format "{{ .duration | trimSuffix \\"ms\\" }}" | line_format "{{ __line__ }}!"',
        '| logfmt | status >= 400 | keep status',
        '| json', '| json | status >= 500', '| json | level="error"', '| json | req_method="POST"',
        '| json | latency_ms > 300.5', '| json method="req.method", ua="req.headers[\\"user-agent\\"]"',
        '| json first_tag="tags[0]", t2="tags[1]"', '| json | __error__="JSONParserErr"',
        '| json | __error__!=""', '| json | drop __error__', '| json | tags=~".*"',
        '| json | line_format "{{.user}}: {{.msg}}"', '| json | keep user, level',
        '| json nested="nested.deep.er[1].x"', '| json | msg=~"line.*"',
        '| json | label_format status_code="{{.status}}" | drop status',
        '| regexp "(?P<day>\\\\d+-\\\\d+-\\\\d+) \\\\S+ (?P<lvl>\\\\w+) \\\\[(?P<pool>[^]]+)\\\\]"',
        '| regexp "from (?P<ip>\\\\S+) after (?P<n>\\\\d+)" | n > 5',
        '| pattern "<_> <_> <level> [<pool>] <msg> from <ip> after <n> retries"',
        '| pattern "<_> <_> <level> [<pool>] <_>" | level=~"(?i)warn"',
        '| pattern "<_> <_> <level> <_>" | level="ERROR" | line_format "{{.level | lower}}"',
        '| decolorize', '| decolorize | pattern "<level> disk <pct>% full on <dev>"',
        '| unpack', '| logfmt | unwrap_me="x"',
        '| json | line_format "{{ .status | int | add 1 }}"',
        '| logfmt | line_format "{{ printf \\"%05s|%-6s|\\" .status .level }}"',
        '| logfmt | line_format "{{ .path | replace \\"/\\" \\"_\\" | title }}"',
        '| logfmt | line_format "{{ toDate \\"2006-01-02\\" \\"2024-03-04\\" | date \\"Jan 2\\" }}"',
        '| json | line_format "{{ .latency_ms | float64 | mulf 2 | round 0 }}"',
        '| logfmt | label_format a="{{.level}}", b="{{.method}}" | line_format "{{.a}}-{{.b}}"',
        '| logfmt | level=~"e.*|w.*" | line_format "{{.level}}" | decolorize',
        '| json | status != 200 | status != 201 | keep status',
    ]
    pipe_sels = {'| json': '{app="api"}', '| regexp': '{app="db"}', '| pattern': '{app="db"}',
                 '| decolorize': '{app="color"}', '| unpack': '{app="api"}'}
    for p in pipes:
        sel = '{app="web"}'
        for k, v in pipe_sels.items():
            if p.startswith(k):
                sel = v
        case("pipeline", sel + " " + p, "range", limit=1000, direction="forward", **R)
    # pipelines over every stream (collisions, structured metadata, errors)
    for p in ['| logfmt', '| json', '| logfmt | keep app, env, level', '| json | user="alice"',
              '| user="alice"', '| trace_id!=""', '| env="from-metadata"', '| logfmt | app="shadow"',
              '| logfmt | level_extracted!=""', '| logfmt | host="h3"']:
        case("labels", '{env=~".+"} ' + p, "range", limit=1000, direction="forward", **R)

    # --- metric range queries
    ranges = ["1m", "5m", "90s"]
    aggs = ['count_over_time({app="web"}[%s])', 'rate({app="web"}[%s])', 'bytes_over_time({app="db"}[%s])',
            'bytes_rate({app="db"}[%s])', 'absent_over_time({app="nope"}[%s])',
            'count_over_time({env=~".+"} |= "error" [%s])',
            'sum_over_time({app="counter"} | logfmt | unwrap requests_total [%s])',
            'rate_counter({app="counter"} | logfmt | unwrap requests_total [%s])',
            'avg_over_time({app="counter"} | logfmt | unwrap gauge [%s])',
            'max_over_time({app="web"} | logfmt | unwrap duration(duration) [%s]) by (host)',
            'min_over_time({app="web"} | logfmt | unwrap bytes(size) [%s]) by (host, method)',
            'first_over_time({app="counter"} | logfmt | unwrap requests_total [%s])',
            'last_over_time({app="counter"} | logfmt | unwrap bytes_total [%s])',
            'stddev_over_time({app="counter"} | logfmt | unwrap gauge [%s])',
            'stdvar_over_time({app="counter"} | logfmt | unwrap gauge [%s])',
            'quantile_over_time(0.9, {app="web"} | logfmt | unwrap duration_seconds(duration) [%s]) by (host)',
            'quantile_over_time(0.5, {app="api", cluster="eu"} | json | unwrap latency_ms | __error__="" [%s])',
            'count_over_time({app="web"} | logfmt | status >= 500 [%s])',
            'sum by (level) (count_over_time({app="web"} | logfmt [%s]))',
            'sum without (host) (rate({app="web"}[%s]))',
            'count_over_time({app="api"} | json [%s])',
            'count_over_time({app="api", cluster="us"} [%s])',
            'bytes_over_time({app="color"} | decolorize [%s])',
            ]
    for a in aggs:
        for r in ranges[:2]:
            case("range-aggregation", a % r, "range", start=0, end=3600, step=300)
    steps = [(0, 3600, 60), (120, 1800, 90), (0, 3600, 600), (17, 3017, 300)]
    for (s, e, st) in steps:
        for q in ['sum(count_over_time({app="web"}[1m]))', 'sum by (host) (rate({app="web"}[5m]))',
                  'count_over_time({app="db"}[2m] offset 5m)', 'sum(count_over_time({env=~".+"}[10m])) by (app)']:
            case("step", q, "range", start=s, end=e, step=st)
    vaggs = ['sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'sort', 'sort_desc']
    inner = 'count_over_time({env=~".+"}[5m])'
    for v in vaggs:
        case("vector-aggregation", f'{v}({inner})', "range", start=0, end=3600, step=600)
        if v not in ("sort", "sort_desc"):
            case("vector-aggregation", f'{v} by (app) ({inner})', "range", start=0, end=3600, step=600)
            case("vector-aggregation", f'{v} without (env, host, job) ({inner})', "range", start=0, end=3600, step=600)
    for k in (1, 2, 5):
        case("topk", f'topk({k}, {inner})', "range", start=0, end=3600, step=600)
        case("topk", f'bottomk({k}, {inner})', "range", start=0, end=3600, step=600)
        case("topk", f'topk({k}, sum by (path) (rate({{app="web"}} | logfmt [5m])))', "range", start=0, end=3600, step=600)
    bins = ['sum(count_over_time({app="web"}[5m])) / sum(count_over_time({env=~".+"}[5m]))',
            'count_over_time({app="web"}[5m]) * 2', '2 * count_over_time({app="web"}[5m]) - 1',
            'count_over_time({app="web"}[5m]) > 4', 'count_over_time({app="web"}[5m]) > bool 4',
            'count_over_time({app="web"}[5m]) % 3', 'count_over_time({app="web"}[5m]) ^ 2',
            'sum by (host) (count_over_time({app="web"}[5m])) / on (host) sum by (host) (count_over_time({app="web"} |= "error" [5m]))',
            'sum by (host) (count_over_time({app="web"}[5m])) and sum by (host) (count_over_time({app="web"} |= "POST" [5m]))',
            'sum by (host) (count_over_time({app="web"}[5m])) or sum by (app) (count_over_time({app="db"}[5m]))',
            'sum by (host) (count_over_time({app="web"}[5m])) unless sum by (host) (count_over_time({host="h1"}[5m]))',
            'sum by (host, method) (count_over_time({app="web"} | logfmt [5m])) / ignoring (method) group_left sum by (host) (count_over_time({app="web"}[5m]))',
            'sum by (host) (count_over_time({app="web"}[5m])) * on (host) group_right sum by (host, method) (count_over_time({app="web"} | logfmt [5m]))',
            'count_over_time({app="web"}[5m]) + count_over_time({app="db"}[5m])',
            'count_over_time({app="web"}[5m]) + on() group_left sum(count_over_time({app="db"}[5m]))',
            'sum(count_over_time({app="web"}[5m])) == bool sum(count_over_time({app="web"}[5m]))',
            'vector(1) + vector(1)', 'vector(3) * sum(count_over_time({app="db"}[5m]))',
            '1 + 2 * 3', '(1 + 2) * 3', '10 / 4', '2 ^ 3 ^ 2', '-5 % 3', '1 > bool 2',
            'count_over_time({app="web"}[5m]) != 3', 'count_over_time({app="web"}[5m]) <= bool 2',
            'label_replace(count_over_time({app="web"}[5m]), "h", "$1-x", "host", "h(.*)")',
            'label_replace(sum by (app) (count_over_time({env=~".+"}[5m])), "app", "", "app", "db")',
            'sum by (host, method) (count_over_time({app="web"} | logfmt [5m])) / on (host) sum by (host, method) (count_over_time({app="web"} | logfmt [5m]))',
            ]
    for b in bins:
        case("binary", b, "range", start=0, end=3600, step=600)

    # --- instant queries
    for t in (600, 1800, 2400, 3599, 3600):
        for q in ['count_over_time({app="web"}[10m])', 'sum by (host) (rate({app="web"}[10m]))',
                  'topk(2, sum by (path) (count_over_time({app="web"} | logfmt [1h])))',
                  'sort_desc(sum by (app) (count_over_time({env=~".+"}[30m])))',
                  'quantile_over_time(0.99, {app="web"} | logfmt | unwrap duration(duration) [1h]) by (host)',
                  'avg(sum by (level) (count_over_time({app="api"} | json | __error__="" [1h])))',
                  'vector(1)+vector(1)', '1', 'absent_over_time({app="web"}[1m])']:
            case("instant", q, "instant", time=t)

    # --- errors
    errs = ['{app="web"', 'app="web"}', '{}', '{app=~".*"}', '{app="web"} |= ', 'rate({app="web"})',
            'rate({app="web"}[5x])', 'sum(rate({app="web"}[5m])) by', 'topk(rate({app="web"}[5m]))',
            'count_over_time({app="web"} | logfmt | unwrap duration [5m])',
            'sum_over_time({app="web"}[5m])', 'quantile_over_time({app="web"} | unwrap x [5m])',
            '{app="web"} | json | line_format "{{.a"', '{app="web"} | regexp "("', '{app="web"} | pattern "<_>"',
            '{app="web"} | pattern "foo"', '{app="web"} |~ "(?P<x"', 'sum by (app) (count_over_time({app="web"}[5m])) + on (app) group_left sum by (env) (count_over_time({app="web"}[5m]))',
            'count_over_time({app="web"}[5m]) + count_over_time({app="web"} | logfmt [5m])',
            'label_replace(vector(1), "x", "y", "z", "(")', '{app="web"} | logfmt | status > "x"',
            'topk(0, count_over_time({app="web"}[5m]))', 'sort(vector(1), 2)',
            '{app="web"} | unwrap status', 'rate({app="web"} | logfmt | unwrap status [5m]) by (host)',
            'absent_over_time({app="web"}[5m]) by (host)', '{app="web"} | label_format a=b, a=c',
            '{app="web"} |= "x" | line_format', '{app="web"} offset 5m', 'sum(1)',
            '{app="web"} | logfmt | drop', '{app="web"} | decolorize foo', 'vector("a")',
            'count_over_time({app="web"}[0s])', 'rate({app="web"}[-1m])', '{app=""}',
            '{app="web"} | json foo=', '{app="web"} | json | status >= 400 and',
            '{app="web"} | ip("1.2.3.4")']
    for q in errs:
        case("error", q, "range", start=0, end=3600, step=60, limit=100, direction="forward")
    case("error", '{app="web"}', "instant", time=1800)
    case("error", '{app="web"} |= "x"', "instant", time=1800)

    # --- printer: every distinct query text above, canonicalized by format_query
    seen = set()
    for c in list(cases):
        q = c["query"]
        if q in seen:
            continue
        seen.add(q)
        case("format/" + c["group"], q, "format")
    for i, c in enumerate(cases):
        c["id"] = f"{i:04d}"
    return cases


def case_key(c):
    return json.dumps({k: c[k] for k in sorted(c) if k not in ("id", "want", "note", "loki", "divergence")}, sort_keys=True)


def cmd_gen():
    HERE.mkdir(parents=True, exist_ok=True)
    DATASET.write_text(json.dumps(gen_dataset(), ensure_ascii=False, indent=None) + "\n")
    old = {}
    if CASES.exists():
        for line in CASES.read_text().splitlines():
            if line.strip():
                c = json.loads(line)
                old[case_key(c)] = c
    out = []
    for c in gen_cases():
        prev = old.get(case_key(c))
        if prev is not None:
            for k in ("want", "note", "loki", "divergence"):
                if k in prev:
                    c[k] = prev[k]
        out.append(c)
    write_cases(out)
    print(f"{len(out)} cases, dataset {sum(len(s['values']) for s in gen_dataset()['streams'])} entries")


def write_cases(cases):
    with CASES.open("w") as f:
        for c in cases:
            f.write(json.dumps(c, ensure_ascii=False, sort_keys=False) + "\n")


# ---------------------------------------------------------------------------------------------
# talking to a server

def http(url, method="GET", body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def push(url, base):
    ds = json.loads(DATASET.read_text())
    for s in ds["streams"]:
        for v in s["values"]:
            v[0] = str(int(v[0]) + base * NS)
    body = json.dumps(ds).encode()
    st, b = http(url + "/loki/api/v1/push", "POST", body, {"Content-Type": "application/json"})
    if st not in (200, 204):
        sys.exit(f"push failed: {st} {b[:500]!r}")


def rel_ms(ts, base):
    return int(round(float(ts) * 1000)) - base * 1000


def normalize(status, body, base, c):
    """The comparable form of an answer: see tests/server/logql_conformance_test.cc."""
    text = body.decode("utf-8", "replace")
    if status != 200:
        return {"status": status, "body": text.rstrip("\n")}
    if c["kind"] == "format":
        return {"status": 200, "body": json.loads(text)["data"]}
    d = json.loads(text)["data"]
    rt = d["resultType"]
    res = d["result"]
    if rt == "streams":
        streams = []
        for s in res:
            streams.append({"labels": s["stream"],
                            "entries": [[str(int(v[0]) - base * NS), v[1]] for v in s["values"]]})
        streams.sort(key=lambda s: json.dumps(s["labels"], sort_keys=True))
        return {"status": 200, "type": "streams", "streams": streams}
    if rt == "matrix":
        series = [{"labels": s["metric"], "values": [[rel_ms(v[0], base), v[1]] for v in s["values"]]}
                  for s in res]
        series.sort(key=lambda s: json.dumps(s["labels"], sort_keys=True))
        return {"status": 200, "type": "matrix", "series": series}
    if rt == "vector":
        samples = [{"labels": s["metric"], "value": [rel_ms(s["value"][0], base), s["value"][1]]} for s in res]
        if not ("sort(" in c["query"] or "sort_desc(" in c["query"]):
            samples.sort(key=lambda s: json.dumps(s["labels"], sort_keys=True))
        return {"status": 200, "type": "vector", "samples": samples}
    if rt == "scalar":
        return {"status": 200, "type": "scalar", "value": [rel_ms(res[0], base), res[1]]}
    raise ValueError(rt)


def run_case(url, c, base):
    q = {"query": c["query"]}
    if c["kind"] == "format":
        st, b = http(url + "/loki/api/v1/format_query?" + urllib.parse.urlencode(q))
        return normalize(st, b, base, c)
    if c["kind"] == "range":
        q["start"] = str((base + c["start"]) * NS)
        q["end"] = str((base + c["end"]) * NS)
        if "step" in c:
            q["step"] = str(c["step"])
        path = "/loki/api/v1/query_range"
    else:
        q["time"] = str((base + c["time"]) * NS)
        path = "/loki/api/v1/query"
    for k in ("limit", "direction"):
        if k in c:
            q[k] = str(c[k])
    st, b = http(url + path + "?" + urllib.parse.urlencode(q))
    return normalize(st, b, base, c)


def load_cases():
    return [json.loads(l) for l in CASES.read_text().splitlines() if l.strip()]


def cmd_record(url, only=None):
    base = base_seconds()
    push(url, base)
    time.sleep(2)
    cases = load_cases()
    for c in cases:
        if only and c["id"] not in only:
            continue
        got = run_case(url, c, base)
        if "note" in c:
            c["loki"] = got  # a deliberate difference: "want" stays Skald's decided answer
        else:
            c["want"] = got
    write_cases(cases)
    print(f"recorded {len(cases)} cases against {url} (base {base})")


def cmd_check(url):
    base = base_seconds()
    push(url, base)
    time.sleep(1)
    bad = 0
    for c in load_cases():
        got = run_case(url, c, base)
        if got != c.get("want"):
            bad += 1
            print(f"--- case {c['id']} [{c['group']}] {c['kind']}: {c['query']}")
            print("want:", json.dumps(c.get("want"), ensure_ascii=False)[:2000])
            print("got: ", json.dumps(got, ensure_ascii=False)[:2000])
    print(f"{bad} of {len(load_cases())} cases differ")
    return 1 if bad else 0


if __name__ == "__main__":
    a = sys.argv[1:]
    if not a or a[0] not in ("gen", "record", "check"):
        sys.exit(__doc__)
    if a[0] == "gen":
        cmd_gen()
    elif a[0] == "record":
        only = None
        if "--only" in a:
            only = set(a[a.index("--only") + 1].split(","))
        cmd_record(a[1], only)
    else:
        sys.exit(cmd_check(a[1]))
