//! The load benchmark (`cargo bench --bench load`; needs `wrk`, Debian's package).
//!
//! In one run it starts the release server and, beside it, two reference servers of our own: a
//! bare hyper server that answers the create-session JSON with no work at all (the machine's
//! ceiling), and a stateful one — the same, but it keeps each session in a `HashMap` behind one
//! `Mutex`, appends every request to a bounded journal ring, and answers result polling with a
//! body of our result's size cached at the first poll: the least a stateful mock must do (and a
//! row where it also sends two headers of the bytes of the two warnings our answer carries when
//! wrk polls one finished session back to back, to price those bytes). wrk
//! drives all three and the table compares them: requests/s, p50 and p99 per endpoint (create
//! and result polling take turns with the references for `BKZ_BENCH_ROUNDS` rounds, default 3,
//! each from an empty server, compared by median). Beside them: create into a store already full
//! of unfinished sessions (`--max-sessions`, so every create evicts), and create with
//! `--state-sync`. It also measures the time
//! from start to the first answered health check, and resident memory idle and after 100,000
//! sessions. Figures go to BENCHMARKS.md with the date and the machine.
//!
//! `BKZ_BENCH_ONLY=create` or `BKZ_BENCH_ONLY=result` runs only that endpoint's rounds against
//! its references (for quick before/after comparisons; the other rows are skipped);
//! `BKZ_BENCH_ONLY=tls` only the HTTPS rows (create over `--tls-port` with keep-alive beside plain
//! HTTP on the same server, and with a new TLS connection for each request).
//!
//! `BKZ_BENCH_ONLY=keys` only the many-keys rows (issue 32): creates and result polls spread over
//! 32 seeded flows of their own against the same over one key, in turns (guard: >= 0.9).
//!
//! `BKZ_BENCH_BASELINE=/path/to/biometric-kz-mock` also starts that build (an earlier commit's
//! release binary) beside ours, with the same flags, and runs create and result polling against
//! it in the same rounds, taking turns: a before/after comparison of a change in one command,
//! on the same machine in the same minutes (BENCHMARKS.md shows how to build the baseline).
//!
//! `BKZ_BENCH_WRK_BATCH=1` runs wrk as a batch job (`chrt --batch 0`, util-linux): the kernel
//! then lets the server finish its time slice instead of handing the core to wrk each time an
//! answer wakes it. Both servers are driven alike; the figures show how much of the gap to the
//! bare server is the two processes trading the same two cores (BENCHMARKS.md).
//!
//! `BKZ_BENCH_SERVE=bare` or `BKZ_BENCH_SERVE=stateful` runs only that reference server, prints
//! its address and serves until killed: to profile it as ours is profiled (BENCHMARKS.md, "counted
//! instructions").

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_biometric-kz-mock");
const EVERYONE: &str = "TTpme201NiUMBA_mock-flow-for-everyone-0000000000";
const INDIVIDUALS: &str = "Efy202XKbVAWRu_mock-flow-for-individuals-0000000";
const BODY: &str = r#"{"session_id":"3fa85f64-5717-4562-b3fc-2c963f66afa6","technologies":["LDHP","F2F"]}"#;

struct Load {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    requests: u64,
}

/// What the answering process spent on a run, per request: CPU time (all its threads, from
/// `/proc`) and context switches. Far steadier from run to run than requests/s on a shared
/// machine, and the switches show when server and load generator hand the cores back and forth.
struct Cost {
    user_us: f64,
    system_us: f64,
    switches: f64,
}

#[expect(clippy::too_many_lines, reason = "the rows, in the order they run, read best as one list")]
fn main() {
    if let Ok(which) = std::env::var("BKZ_BENCH_SERVE") {
        let addr = match which.as_str() {
            "bare" => start_bare_server(),
            "stateful" => start_stateful_server(),
            other => panic!("BKZ_BENCH_SERVE={other:?}: bare or stateful"),
        };
        println!("http://{addr}");
        loop {
            std::thread::park();
        }
    }
    let seconds = std::env::var("BKZ_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10u64);
    let rounds = std::env::var("BKZ_BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3usize).max(1);
    let only =
        std::env::var("BKZ_BENCH_ONLY").ok().filter(|o| o == "create" || o == "result" || o == "tls" || o == "keys");
    let scratch = std::env::temp_dir().join(format!("bkz-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    check_load_generator();
    if only.as_deref() == Some("keys") {
        many_keys_rows(&scratch, seconds, rounds);
        let _ = std::fs::remove_dir_all(scratch);
        return;
    }
    if only.as_deref() == Some("tls") {
        let script = scratch.join("create.lua");
        std::fs::write(&script, format!("wrk.method = \"POST\"\nwrk.body = \"{{\\\"api_key\\\":\\\"{EVERYONE}\\\"}}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n")).unwrap();
        tls_rows(script.to_str().unwrap(), seconds, rounds);
        let _ = std::fs::remove_dir_all(scratch);
        return;
    }

    let ceiling_addr = start_bare_server();
    let (stateful, stateful_create, stateful_result) = stateful_urls();
    // A second server whose store is full of sessions nobody finished: each create evicts one.
    let (_, mut full_server, full_base) = start_server(&["--max-sessions", &FULL_STORE.to_string()]);
    fill(&full_base, FULL_STORE + 1000);
    let full_pid = full_server.id();
    let full_create = format!("{full_base}/api/v1/flows/session/create/");
    // Room for every session the rounds create: the rows compare the request path, not eviction.
    let roomy = ["--max-sessions", "10000000", "--max-store-bytes", "64GiB", "--journal-limit", "1000"];
    let (start_ms, mut server, base) = start_server(&roomy);
    let pid = server.id();
    // `BKZ_BENCH_BASELINE`: an earlier build, the same flags, the same rounds.
    let mut baseline = std::env::var("BKZ_BENCH_BASELINE").ok().map(|binary| start_binary(&binary, &roomy));
    let (baseline_pid, baseline_base) =
        baseline.as_ref().map_or((0, String::from("(none)")), |(_, child, base)| (child.id(), base.clone()));
    let idle_rss = rss_kib(pid);
    println!("start to first answered health check: {start_ms:.1} ms (guard <= 50 ms: {})", held(start_ms <= 50.0));
    let idle_mib = f64::from(idle_rss) / 1024.0;
    println!("resident memory idle: {idle_mib:.1} MiB (guard <= 20 MiB: {})", held(idle_mib <= 20.0));

    let photo = base64(&std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/photos/face.jpg")).unwrap());
    let metadata = format!(
        r#"{{"api_key":"{INDIVIDUALS}","metadata":{{"face2face":{{"photo1":"{photo}"}},"edocument":{{"iin":{{"value":"900101300017","changeable":false}},"phone":{{"value":"77011234567","changeable":false}},"skip_input":true}},"extra":{{"iin":"900101300017"}}}}}}"#
    );

    let post_script = |name: &str, body: &str| {
        let path = scratch.join(name);
        let body = body.replace('\\', "\\\\").replace('"', "\\\"");
        let lua = format!(
            "wrk.method = \"POST\"\nwrk.body = \"{body}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        );
        std::fs::write(&path, lua).unwrap();
        path.display().to_string()
    };
    let create_plain = post_script("create.lua", &format!(r#"{{"api_key":"{EVERYONE}"}}"#));
    let create_meta = post_script("create-meta.lua", &metadata);
    let report = post_script("report.lua", &format!(r#"{{"api_key":"{EVERYONE}"}}"#));
    let bare_url = format!("http://{ceiling_addr}/");

    let mut rows: Vec<(String, Load, Cost)> = Vec::new();
    let mut run = |name: &str, connections: u32, url: &str, script: Option<&str>| {
        // The reference servers run in this process; the full-store server is its own.
        let answering = if url.starts_with(&bare_url) || url.starts_with(&stateful) {
            std::process::id()
        } else if url.starts_with(&full_base) {
            full_pid
        } else if url.starts_with(&baseline_base) {
            baseline_pid
        } else {
            pid
        };
        let before = Usage::of(answering);
        let load = wrk(url, connections, seconds, script);
        let cost = Usage::of(answering).cost_since(&before, load.requests);
        println!(
            "{name:<52} {:>10.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}  CPU {:>5.1} us/req (user {:.1}, sys {:.1})  {:.2} switches/req",
            load.rps,
            load.p50_ms,
            load.p99_ms,
            load.errors,
            cost.user_us + cost.system_us,
            cost.user_us,
            cost.system_us,
            cost.switches
        );
        rows.push((name.to_owned(), load, cost));
    };
    // The compared pairs take turns, several rounds, and the medians are compared: on a shared
    // 2-core machine one run of either can be 20 % off.
    // Each round starts from an empty server (creates add a million sessions in a few rounds).
    let create_url = format!("{base}/api/v1/flows/session/create/");
    for _ in 0..rounds {
        let (done, _) = fresh_sessions(&base);
        let result_url = format!("{base}/api/v1/flows/session/result/?session_id={done}&flow_api_key={EVERYONE}");
        if only.as_deref() != Some("result") {
            run("bare hyper server, POST create JSON (ceiling)", 64, &bare_url, Some(&create_plain));
            run(READING_BARE, 64, &format!("{bare_url}read-body"), Some(&create_plain));
            run(STATEFUL_CREATE, 64, &stateful_create, Some(&create_plain));
            run("session create, no metadata", 64, &create_url, Some(&create_plain));
            if baseline.is_some() {
                run(BASELINE_CREATE, 64, &format!("{baseline_base}/api/v1/flows/session/create/"), Some(&create_plain));
            }
            run(FULL_CREATE, 64, &full_create, Some(&create_plain));
        }
        if only.as_deref() != Some("create") {
            run("bare hyper server, GET (ceiling)", 64, &bare_url, None);
            run(STATEFUL_RESULT, 64, &stateful_result, None);
            run(STATEFUL_WARNED, 64, &format!("{stateful_result}&warned"), None);
            run("result polling", 64, &result_url, None);
            if baseline.is_some() {
                let (done, _) = fresh_sessions(&baseline_base);
                let url =
                    format!("{baseline_base}/api/v1/flows/session/result/?session_id={done}&flow_api_key={EVERYONE}");
                run(BASELINE_RESULT, 64, &url, None);
            }
        }
    }
    if let Some((_, mut child, _)) = baseline.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = full_server.kill();
    let _ = full_server.wait();
    if only.is_some() {
        compare(&rows, rounds);
        let _ = server.kill();
        let _ = server.wait();
        return;
    }
    fresh_sessions(&base);
    run("session create, photo1 + edocument + extra", 64, &create_url, Some(&create_meta));
    let (done, fresh) = fresh_sessions(&base);
    let result_url = format!("{base}/api/v1/flows/session/result/?session_id={done}&flow_api_key={EVERYONE}");
    run("end-user page (GET /flow/{id})", 64, &format!("{base}/flow/{fresh}"), None);
    run(
        "liveness video download (16 KB)",
        64,
        &format!("{base}/api/v1/liveness/video/download/?session_id={done}&flow_api_key={EVERYONE}"),
        None,
    );
    // Result polling while reports are drawn on the blocking pool.
    let report_url = format!("{base}/api/v1/flows/session/{done}/report/?technology=F2F");
    // One client: how long one report takes (the p50 target); eight: reports queue for their
    // turns (at most cores - 1 at once).
    run(REPORT_ALONE, 1, &report_url, Some(&report));
    run("PDF report generation, 8 clients", 8, &report_url, Some(&report));
    let background = {
        let report = report.clone();
        std::thread::spawn(move || wrk(&report_url, 8, seconds + 2, Some(&report)))
    };
    std::thread::sleep(Duration::from_millis(500));
    run("result polling while 8 clients draw reports", 64, &result_url, None);
    let _ = background.join();

    compare(&rows, rounds);
    let _ = server.kill();
    let _ = server.wait();

    log_rows(&scratch, seconds);
    state_sync_row(&scratch, &create_plain, seconds);
    tls_rows(&create_plain, seconds, rounds);
    many_keys_rows(&scratch, seconds, rounds);
    memory_after_fill();
    let _ = std::fs::remove_dir_all(scratch);
}

/// How a guard came out, for the figures' lines.
fn held(ok: bool) -> &'static str {
    if ok { "held" } else { "NOT HELD" }
}

/// The stateful ceiling's base URL, its create URL and the URL polling one session it made.
fn stateful_urls() -> (String, String, String) {
    let stateful = format!("http://{}", start_stateful_server());
    let session = create(&stateful, EVERYONE, "");
    let create_url = format!("{stateful}/api/v1/flows/session/create/");
    let result_url = format!("{stateful}/api/v1/flows/session/result/?session_id={session}&flow_api_key={EVERYONE}");
    (stateful, create_url, result_url)
}

/// `--log-requests`: result polling with the request log on and off, taking turns, stderr to a
/// file (as a CI job's log); the ratio decides whether it may be on by default (under 5 %).
fn log_rows(scratch: &std::path::Path, seconds: u64) {
    let mut ratios = Vec::new();
    for _ in 0..3 {
        let mut rps = [0.0; 2];
        for (i, logging) in [false, true].into_iter().enumerate() {
            let log = std::fs::File::create(scratch.join("requests.log")).unwrap();
            let mut child = Command::new(BIN)
                .args(["serve", "--port", "0"])
                .args(if logging { &["--log-requests"][..] } else { &[][..] })
                .env("RUST_LOG", "info")
                .stdout(Stdio::piped())
                .stderr(log)
                .spawn()
                .expect("the server starts");
            let mut line = String::new();
            BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
            let base = line.trim().trim_start_matches("listening on ").to_owned();
            let (done, _) = fresh_sessions(&base);
            let url = format!("{base}/api/v1/flows/session/result/?session_id={done}&flow_api_key={EVERYONE}");
            rps[i] = wrk(&url, 64, seconds.min(5), None).rps;
            let _ = child.kill();
            let _ = child.wait();
        }
        println!("result polling, request log off / on (stderr to a file): {:.0} / {:.0} req/s", rps[0], rps[1]);
        ratios.push(rps[1] / rps[0]);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "--log-requests costs result polling {:.0}% of its throughput (median of 3; on by default only under 5%)",
        100.0 * (1.0 - ratios[1])
    );
}

/// `--state-sync`: every create waits for a write of the whole file, which grows with the
/// sessions; a few seconds, the file holding at most 1,000 sessions.
fn state_sync_row(scratch: &std::path::Path, create_plain: &str, seconds: u64) {
    let state_file = scratch.join("state.json");
    let (_, mut synced, synced_base) =
        start_server(&["--state-file", state_file.to_str().unwrap(), "--state-sync", "--max-sessions", "1000"]);
    let load = wrk(&format!("{synced_base}/api/v1/flows/session/create/"), 64, seconds.min(5), Some(create_plain));
    println!(
        "session create with --state-sync (at most 1,000 sessions in the file): {:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
        load.rps, load.p50_ms, load.p99_ms, load.errors
    );
    let _ = synced.kill();
    let _ = synced.wait();
}

/// One figure of a row, by round.
type Rounds = Vec<f64>;

/// How many keys the many-keys rows spread their requests over.
const KEYS: usize = 32;

/// Issue 32: many suites on one mock, each on a flow of its own. Creates, then result polls, spread
/// over `KEYS` seeded flows (each with its own generator, as suites that seed theirs have), against
/// the same requests over one key, by the same kind of wrk script (a Lua `request` per request),
/// taking turns; the medians' ratio is the guard (>= 0.9: scoping is no global scan).
fn many_keys_rows(scratch: &std::path::Path, seconds: u64, rounds: usize) {
    let roomy = ["--max-sessions", "10000000", "--max-store-bytes", "64GiB"];
    let (_, mut server, base) = start_server(&roomy);
    let mut keys = Vec::new();
    for n in 0..KEYS {
        let flow = post(
            &base,
            "/__admin/flows",
            &format!(r#"{{"name":"suite {n}","technologies":["LDHP","F2F"],"seed":{n}}}"#),
        );
        let at = flow.find("\"api_key\":\"").expect("a flow") + 11;
        keys.push(flow[at..at + 48].to_owned());
    }
    let mut polls = Vec::new();
    for key in &keys {
        let done = create(&base, key, "");
        post(&base, &format!("/__admin/sessions/{done}/complete"), "");
        polls.push(format!("/api/v1/flows/session/result/?session_id={done}&flow_api_key={key}"));
    }
    // One Lua script per row: the same `request` function, over one item or all of them.
    let script = |name: &str, method: &str, items: &[String], as_body: bool| {
        let list: Vec<String> = items.iter().map(|i| format!("\"{}\"", i.replace('"', "\\\""))).collect();
        let (path, body) = if as_body { ("nil", "items[n % #items + 1]") } else { ("items[n % #items + 1]", "nil") };
        let lua = format!(
            "local items = {{{}}}\nlocal n = 0\nwrk.method = \"{method}\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nrequest = function()\n  n = n + 1\n  return wrk.format(nil, {path}, nil, {body})\nend\n",
            list.join(", ")
        );
        let file = scratch.join(name);
        std::fs::write(&file, lua).unwrap();
        file.display().to_string()
    };
    let bodies: Vec<String> = keys.iter().map(|k| format!(r#"{{"api_key":"{k}"}}"#)).collect();
    let rows = [
        (
            "session create, one key",
            script("create-one.lua", "POST", &bodies[..1], true),
            "/api/v1/flows/session/create/",
        ),
        ("session create, 32 keys", script("create-many.lua", "POST", &bodies, true), "/api/v1/flows/session/create/"),
        ("result polling, one key", script("poll-one.lua", "GET", &polls[..1], false), "/"),
        ("result polling, 32 keys", script("poll-many.lua", "GET", &polls, false), "/"),
    ];
    let mut rps: Vec<Rounds> = vec![Vec::new(); rows.len()];
    for _ in 0..rounds {
        for (i, (name, script, path)) in rows.iter().enumerate() {
            let load = wrk(&format!("{base}{path}"), 64, seconds, Some(script));
            println!(
                "{name:<52} {:>10.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}",
                load.rps, load.p50_ms, load.p99_ms, load.errors
            );
            rps[i].push(load.rps);
        }
    }
    let median = |values: &Rounds| {
        let mut values = values.clone();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    for (what, one, many) in [("session create", 0, 1), ("result polling", 2, 3)] {
        let ratio = median(&rps[many]) / median(&rps[one]);
        println!(
            "{what} over {KEYS} seeded keys: {:.0} req/s, {:.2} of one key's {:.0} (guard >= 0.9: {})",
            median(&rps[many]),
            ratio,
            median(&rps[one]),
            held(ratio >= 0.9)
        );
    }
    let _ = server.kill();
    let _ = server.wait();
}

/// Create over HTTPS (`--tls-port`, keep-alive) beside create over plain HTTP on the same
/// server, and a new TLS connection for every request (the handshake priced), by rounds.
fn tls_rows(create_plain: &str, seconds: u64, rounds: usize) {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--tls-port", "0", "--max-sessions", "10000000", "--max-store-bytes", "64GiB"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let plain = lines.next().unwrap().unwrap().trim_start_matches("listening on ").to_owned();
    let secure = lines.next().unwrap().unwrap();
    let secure = secure.trim_start_matches("listening on ").split(' ').next().unwrap().to_owned();
    std::thread::sleep(Duration::from_millis(200));
    let pid = child.id();
    // Each row: its name, and by round its requests/s, p99 (ms) and server CPU per request (µs).
    let mut rows: Vec<(&str, Rounds, Rounds, Rounds)> = vec![
        ("session create, plain HTTP, keep-alive (same server)", vec![], vec![], vec![]),
        ("session create over HTTPS (TLS 1.3), keep-alive", vec![], vec![], vec![]),
        ("session create over HTTPS, a new TLS connection each", vec![], vec![], vec![]),
    ];
    let close = {
        let path = std::path::Path::new(create_plain).with_file_name("create-close.lua");
        let text = std::fs::read_to_string(create_plain).unwrap() + "wrk.headers[\"Connection\"] = \"close\"\n";
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    for _ in 0..rounds {
        for (i, (url, script)) in [
            (format!("{plain}/api/v1/flows/session/create/"), create_plain),
            (format!("{secure}/api/v1/flows/session/create/"), create_plain),
            (format!("{secure}/api/v1/flows/session/create/"), close.as_str()),
        ]
        .iter()
        .enumerate()
        {
            let before = Usage::of(pid);
            let load = wrk(url, if i == 2 { 16 } else { 64 }, seconds, Some(script));
            let cost = Usage::of(pid).cost_since(&before, load.requests);
            rows[i].1.push(load.rps);
            rows[i].2.push(load.p99_ms);
            rows[i].3.push(cost.user_us + cost.system_us);
        }
    }
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    for (name, rps, p99, cpu) in &rows {
        println!(
            "{name:<56} {:>10.0} req/s  p99 {:>7.2} ms  CPU {:>6.1} us/req  (rounds: {})",
            median(rps),
            median(p99),
            median(cpu),
            rps.iter().map(|r| format!("{r:.0}")).collect::<Vec<_>>().join(", ")
        );
    }
    println!(
        "HTTPS keep-alive create: {:.0} % of plain HTTP; a new TLS connection costs {:.0} us of server CPU more than a kept one",
        100.0 * median(&rows[1].1) / median(&rows[0].1),
        median(&rows[2].3) - median(&rows[1].3)
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// Resident memory after 100,000 sessions, on a fresh server.
fn memory_after_fill() {
    let (_, mut server, base) = start_server(&[]);
    let start = Instant::now();
    fill(&base, 100_000);
    println!(
        "resident memory after 100,000 sessions: {:.1} MiB (created in {:.1} s)",
        f64::from(rss_kib(server.id())) / 1024.0,
        start.elapsed().as_secs_f64()
    );
    let _ = server.kill();
    let _ = server.wait();
}

/// The targets: create and result polling against the bare server, by the median of each row's
/// runs (requests/s and p99 each on their own).
fn compare(rows: &[(String, Load, Cost)], rounds: usize) {
    let median = |name: &str, value: fn(&Load, &Cost) -> f64| {
        let mut values: Vec<f64> = rows.iter().filter(|(n, ..)| n == name).map(|(_, l, c)| value(l, c)).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    };
    let rps = |l: &Load, _: &Cost| l.rps;
    let p99 = |l: &Load, _: &Cost| l.p99_ms;
    let cpu = |_: &Load, c: &Cost| c.user_us + c.system_us;
    let switches = |_: &Load, c: &Cost| c.switches;
    // `BKZ_BENCH_ONLY` runs some rows only: a comparison is printed when both its rows ran.
    let ran = |name: &str| rows.iter().any(|(n, ..)| n == name);
    println!();
    // The guards (issue 30): create against the stateful ceiling, result polling against the
    // stateful ceiling that also sends our two warnings' bytes; p99 at most twice theirs.
    for (name, ceiling, guard) in
        [("session create, no metadata", STATEFUL_CREATE, 70.0), ("result polling", STATEFUL_WARNED, 75.0)]
    {
        if !ran(name) || !ran(ceiling) {
            continue;
        }
        let (ours, theirs) = (median(name, rps), median(ceiling, rps));
        let p99_ratio = median(name, p99) / median(ceiling, p99);
        println!(
            "{name}: {ours:.0} req/s, {:.0}% of {ceiling}'s {theirs:.0} (guard >= {guard:.0}%: {}); p99 {:.2} ms, {p99_ratio:.1}x its (guard <= 2x: {}); server CPU {:.1} us/req against {:.1}",
            100.0 * ours / theirs,
            held(100.0 * ours / theirs >= guard),
            median(name, p99),
            held(p99_ratio <= 2.0),
            median(name, cpu),
            median(ceiling, cpu),
        );
    }
    if ran(STATEFUL_RESULT) && ran("result polling") {
        println!(
            "result polling: {:.0}% of the stateful ceiling without our warnings' bytes ({:.0} req/s)",
            100.0 * median("result polling", rps) / median(STATEFUL_RESULT, rps),
            median(STATEFUL_RESULT, rps),
        );
    }
    let (full, empty) = (median(FULL_CREATE, rps), median("session create, no metadata", rps));
    if ran(FULL_CREATE) {
        println!(
            "create with a full store ({FULL_STORE} unfinished sessions, each create evicts): {full:.0} req/s, {:.0}% of create with an empty store (guard >= 80%: {}); p99 {:.2} ms, {:.1}x (guard <= 2x)",
            100.0 * full / empty,
            held(100.0 * full / empty >= 80.0),
            median(FULL_CREATE, p99),
            median(FULL_CREATE, p99) / median("session create, no metadata", p99),
        );
    }
    for (name, bare) in [
        ("session create, no metadata", "bare hyper server, POST create JSON (ceiling)"),
        ("result polling", "bare hyper server, GET (ceiling)"),
    ] {
        if !ran(name) {
            continue;
        }
        let (ours, theirs) = (median(name, rps), median(bare, rps));
        println!(
            "{name}: median of {rounds} runs {ours:.0} req/s, {:.0}% of the bare server's {theirs:.0}; p99 {:.2} ms, {:.1}x the bare server's; server CPU {:.1} us/req against {:.1}, {:.2} context switches/req against {:.2}",
            100.0 * ours / theirs,
            median(name, p99),
            median(name, p99) / median(bare, p99),
            median(name, cpu),
            median(bare, cpu),
            median(name, switches),
            median(bare, switches),
        );
    }
    for (name, before) in [("session create, no metadata", BASELINE_CREATE), ("result polling", BASELINE_RESULT)] {
        if ran(before) {
            println!(
                "{name}: {:.0}% of the baseline build's {:.0} req/s (rounds taken in turns); p99 {:.1}x; server CPU {:.1} us/req against {:.1}",
                100.0 * median(name, rps) / median(before, rps),
                median(before, rps),
                median(name, p99) / median(before, p99),
                median(name, cpu),
                median(before, cpu),
            );
        }
    }
    let alone = |l: &Load, _: &Cost| l.p50_ms;
    if ran(REPORT_ALONE) {
        println!("PDF report, one client: p50 {:.1} ms (target <= 20 ms)", median(REPORT_ALONE, alone));
    }
    let (ours, reading) = (median("session create, no metadata", rps), median(READING_BARE, rps));
    if ran(READING_BARE) {
        println!(
            "for information: session create is {:.0}% of a bare server that also reads the request body ({reading:.0} req/s; the ceiling above leaves it unread)",
            100.0 * ours / reading
        );
    }
}

/// The stateful ceiling's rows (`start_stateful_server`).
const STATEFUL_CREATE: &str = "stateful ceiling, POST create";
const STATEFUL_RESULT: &str = "stateful ceiling, GET result (cached body)";
/// The same, with two headers of our two polling warnings' bytes: the ceiling that sends what we
/// send (the issue's ceiling sends about 390 bytes fewer per answer).
const STATEFUL_WARNED: &str = "stateful ceiling, GET result + our warnings' bytes";

/// `BKZ_BENCH_BASELINE`'s rows.
const BASELINE_CREATE: &str = "baseline build: session create, no metadata";
const BASELINE_RESULT: &str = "baseline build: result polling";

/// Create into a store full of unfinished sessions.
const FULL_CREATE: &str = "session create, store full (every create evicts)";
const FULL_STORE: usize = 20_000;

/// The row whose p50 is the report target: one client, so the figure is one report's time.
const REPORT_ALONE: &str = "PDF report generation, 1 client";

/// The bare server, made to read the request body as every handler of a POST must. Not the
/// ceiling the targets are measured against (that one answers without reading it): it shows
/// what receiving a body through hyper costs by itself.
const READING_BARE: &str = "bare hyper server, POST, reading the body (for information)";

/// A process's CPU time (clock ticks, all threads) and context switches so far.
struct Usage {
    ticks: (u64, u64),
    switches: u64,
}

impl Usage {
    fn of(pid: u32) -> Self {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // After the command name (in parentheses, maybe with spaces): state, then utime and
        // stime are the 12th and 13th fields (14 and 15 of proc(5)).
        let fields: Vec<u64> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let ticks = (fields.get(11).copied().unwrap_or(0), fields.get(12).copied().unwrap_or(0));
        let switches = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|task| {
                let status = std::fs::read_to_string(task.path().join("status")).unwrap_or_default();
                status
                    .lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    .sum::<u64>()
            })
            .sum();
        Self { ticks, switches }
    }

    fn cost_since(&self, before: &Usage, requests: u64) -> Cost {
        #[expect(
            clippy::cast_precision_loss,
            reason = "counts of a few seconds, far below the 2^52 where f64 starts rounding"
        )]
        let per_request = |count: u64| count as f64 / requests.max(1) as f64;
        // /proc counts in USER_HZ ticks, 100 a second on Linux: a tick is 10,000 us.
        Cost {
            user_us: per_request(self.ticks.0.saturating_sub(before.ticks.0)) * 10_000.0,
            system_us: per_request(self.ticks.1.saturating_sub(before.ticks.1)) * 10_000.0,
            switches: per_request(self.switches.saturating_sub(before.switches)),
        }
    }
}

/// Empties the server (`POST /__admin/reset`) and makes the sessions the rows need: one finished
/// (to poll, to report on, to download from) and one fresh (to page).
fn fresh_sessions(base: &str) -> (String, String) {
    post(base, "/__admin/reset", "");
    let done = create(base, EVERYONE, r#","metadata":{"extra":{"iin":"900101300017"}}"#);
    post(base, &format!("/__admin/sessions/{done}/complete"), "");
    (done, create(base, EVERYONE, ""))
}

fn which(program: &str) -> Option<()> {
    Command::new(program).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().ok().map(|_| ())
}

/// Starts the release server on a free port; returns the milliseconds from spawn to its first
/// answered health check, the child and its base URL.
fn start_server(extra: &[&str]) -> (f64, Child, String) {
    start_binary(BIN, extra)
}

/// `start_server` for any build of the server.
fn start_binary(binary: &str, extra: &[&str]) -> (f64, Child, String) {
    let start = Instant::now();
    let mut child = Command::new(binary)
        .args(["serve", "--port", "0"])
        .args(extra)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().trim_start_matches("listening on ").to_owned();
    let addr = base.trim_start_matches("http://").to_owned();
    loop {
        if http(&addr, "GET", "/__admin/health", "").starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "the server answers");
    }
    (start.elapsed().as_secs_f64() * 1000.0, child, base)
}

/// One request over a fresh connection; the raw answer.
fn http(addr: &str, method: &str, path: &str, body: &str) -> String {
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else { return String::new() };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return String::new();
    }
    let mut out = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut out);
    out
}

fn post(base: &str, path: &str, body: &str) -> String {
    http(base.trim_start_matches("http://"), "POST", path, body)
}

fn create(base: &str, key: &str, metadata: &str) -> String {
    let answer = post(base, "/api/v1/flows/session/create/", &format!(r#"{{"api_key":"{key}"{metadata}}}"#));
    let at = answer.find("\"session_id\":\"").expect("a session") + 14;
    answer[at..at + 36].to_owned()
}

/// Creates `n` sessions with 64 keep-alive connections.
fn fill(base: &str, n: usize) {
    let addr = base.trim_start_matches("http://").to_owned();
    let per = n.div_ceil(64);
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(&addr).unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let body = format!(r#"{{"api_key":"{EVERYONE}"}}"#);
                let request = format!(
                    "POST /api/v1/flows/session/create/ HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                for _ in 0..per {
                    stream.write_all(request.as_bytes()).unwrap();
                    let mut length = 0;
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap();
                        }
                        if line == "\r\n" {
                            break;
                        }
                    }
                    let mut body = vec![0; length];
                    std::io::Read::read_exact(&mut reader, &mut body).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

fn rss_kib(pid: u32) -> u32 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Checks that wrk (and `chrt` for a batch run) is there and says how it runs.
fn check_load_generator() {
    which("wrk").expect("wrk is needed: apt-get install wrk");
    if wrk_as_batch() {
        which("chrt").expect("BKZ_BENCH_WRK_BATCH needs chrt: apt-get install util-linux");
    }
    println!(
        "load generator: wrk, 2 threads, {}",
        if wrk_as_batch() { "as a batch job (chrt --batch 0)" } else { "default scheduling" }
    );
}

/// `BKZ_BENCH_WRK_BATCH=1`: wrk runs under the batch scheduling policy.
fn wrk_as_batch() -> bool {
    std::env::var("BKZ_BENCH_WRK_BATCH").is_ok_and(|v| v == "1")
}

/// Runs wrk and reads requests/s, p50, p99 and errors from its report.
fn wrk(url: &str, connections: u32, seconds: u64, script: Option<&str>) -> Load {
    let mut command = if wrk_as_batch() {
        let mut chrt = Command::new("chrt");
        chrt.args(["--batch", "0", "wrk"]);
        chrt
    } else {
        Command::new("wrk")
    };
    // wrk needs at least a connection per thread.
    command.args([
        &format!("-t{}", connections.min(2)),
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(script) = script {
        command.args(["-s", script]);
    }
    let out = command.arg(url).output().expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let ms = |value: &str| -> f64 {
        let value = value.trim();
        let split = value.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(value.len());
        let number: f64 = value[..split].parse().unwrap_or(f64::NAN);
        match &value[split..] {
            "us" => number / 1000.0,
            "ms" => number,
            "s" => number * 1000.0,
            _ => f64::NAN,
        }
    };
    let percentile = |p: &str| text.lines().find_map(|l| l.trim().strip_prefix(p).map(&ms)).unwrap_or(f64::NAN);
    let rps =
        text.lines().find_map(|l| l.strip_prefix("Requests/sec:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0.0);
    let errors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0);
    Load { rps, p50_ms: percentile("50%"), p99_ms: percentile("99%"), errors, requests }
}

/// The machine's ceiling: hyper answering the create JSON with no work, on its own runtime. On
/// `/read-body` it first reads the request body (`READING_BARE`).
fn start_bare_server() -> std::net::SocketAddr {
    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                stream.set_nodelay(true).ok();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(|request: hyper::Request<hyper::body::Incoming>| async move {
                            if request.uri().path() == "/read-body" {
                                let _ = http_body_util::BodyExt::collect(request.into_body()).await;
                            }
                            let response = hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(BODY.as_bytes())))
                                .unwrap();
                            Ok::<_, std::convert::Infallible>(response)
                        });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

/// The stateful ceiling: the bare server, plus what a stateful mock cannot do without. A create
/// reads its body, draws an id, stores the session in a `HashMap` behind one `Mutex` and answers
/// it; a result poll finds the session by the query's id and answers a body of our result's
/// size, made at the first poll and kept; every request is appended to a journal ring of 1,000
/// entries behind its own `Mutex`.
fn start_stateful_server() -> std::net::SocketAddr {
    use std::collections::{HashMap, VecDeque};
    use std::sync::{Arc, Mutex};

    use http_body_util::Full;
    use hyper::body::Bytes;
    use hyper_util::rt::{TokioExecutor, TokioIo};

    struct Journaled {
        _method: hyper::Method,
        _path: String,
        _query: Option<String>,
        _status: u16,
    }
    #[derive(Default)]
    struct Store {
        sessions: Mutex<HashMap<u128, Option<Bytes>>>,
        journal: Mutex<VecDeque<Journaled>>,
    }
    let store = Arc::new(Store::default());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                stream.set_nodelay(true).ok();
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                        let store = Arc::clone(&store);
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = if parts.method == hyper::Method::POST {
                                // The session id of a create.
                                let _ = http_body_util::BodyExt::collect(body).await;
                                let id: u128 = rand::random();
                                store.sessions.lock().unwrap().insert(id, None);
                                let uuid = uuid::Uuid::from_u128(id);
                                Bytes::from(format!(r#"{{"session_id":"{uuid}","technologies":["LDHP","F2F"]}}"#))
                            } else {
                                let id = parts
                                    .uri
                                    .query()
                                    .unwrap_or_default()
                                    .split('&')
                                    .find_map(|pair| pair.strip_prefix("session_id="))
                                    .and_then(|id| uuid::Uuid::parse_str(id).ok())
                                    .map_or(0, |id| id.as_u128());
                                let mut sessions = store.sessions.lock().unwrap();
                                match sessions.get_mut(&id) {
                                    Some(cached) => cached
                                        .get_or_insert_with(|| {
                                            Bytes::from(format!(
                                                "{{\"id\":\"{}\",{}}}",
                                                uuid::Uuid::from_u128(id),
                                                "x".repeat(RESULT_BYTES)
                                            ))
                                        })
                                        .clone(),
                                    None => Bytes::from_static(b"{\"detail\":\"Not found.\"}"),
                                }
                            };
                            {
                                let mut journal = store.journal.lock().unwrap();
                                if journal.len() >= 1000 {
                                    journal.pop_front();
                                }
                                journal.push_back(Journaled {
                                    _method: parts.method.clone(),
                                    _path: parts.uri.path().to_owned(),
                                    _query: parts.uri.query().map(str::to_owned),
                                    _status: 200,
                                });
                            }
                            let mut response = hyper::Response::builder()
                                .header("content-type", "application/json")
                                .body(Full::new(body))
                                .unwrap();
                            // `&warned`: the two warnings our answer carries when wrk polls one
                            // finished session back to back, as bytes (the ruler that sends
                            // what we send; nothing is counted or written for them).
                            if parts.uri.query().is_some_and(|q| q.ends_with("&warned")) {
                                for line in WARNINGS {
                                    response
                                        .headers_mut()
                                        .append("x-mock-lint", hyper::header::HeaderValue::from_static(line));
                                }
                            }
                            Ok::<_, std::convert::Infallible>(response)
                        }
                    });
                    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    addr
}

/// About the size of our result body for a finished session of the built-in "everyone" flow.
const RESULT_BYTES: usize = 625;

/// The two `X-Mock-Lint` lines our result polling answers carry under wrk (with a count of polls
/// that wrk's run reaches), for the stateful ceiling's `&warned` rows.
const WARNINGS: [&str; 2] = [
    "polled-after-final: this session has been FINISHED for 499999 earlier polls; FAILED is as final as FINISHED, and a client that waits for FINISHED alone polls for ever when a verification fails (vendor docs: 5. Getting the result)",
    "polling-too-fast: this session's result was polled again after 0 ms; poll at most once a second (vendor docs: 5. Getting the result)",
];

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
