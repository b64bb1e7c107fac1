//! Real headless Chromium driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`, which `.ci/run` installs), one at a time. The tests that use it are
//! `#[ignore = "needs chromium"]`: run where it is missing, [`chromium`] fails saying so.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{Mutex, MutexGuard};

use super::tool;

/// One browser at a time: Chromium is heavy and the machine has two cores.
static ONE_BROWSER: Mutex<()> = Mutex::const_new(());

pub(crate) struct Chromium {
    pub client: Client,
    _driver: Child,
    _turn: MutexGuard<'static, ()>,
}

/// The turn to run a browser, for a test that starts its own (a Selenium recipe).
pub(crate) async fn browser_turn() -> MutexGuard<'static, ()> {
    ONE_BROWSER.lock().await
}

/// Starts chromedriver and a headless Chromium session.
pub(crate) async fn chromium() -> Chromium {
    chromium_with(&[]).await
}

/// The same, with more command-line flags for Chromium (a proxy, say).
pub(crate) async fn chromium_with(extra: &[&str]) -> Chromium {
    let driver = tool("BKZ_MOCK_CHROMEDRIVER", &["chromedriver"], "chromium-driver");
    let chromium = tool("BKZ_MOCK_CHROMIUM", &["chromium", "chromium-browser"], "chromium");
    let turn = ONE_BROWSER.lock().await;
    let (child, port) = start_driver(&driver).await;
    let webdriver = format!("http://127.0.0.1:{port}");
    wait_until_ready(port).await;
    // Flags that keep Chromium off the network this machine does not have, and fit a container.
    let mut args = vec![
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
        "--window-size=420,900",
    ];
    args.extend_from_slice(extra);
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args }
    });
    let Value::Object(capabilities) = capabilities else { unreachable!() };
    // Chromium's first start on a cold machine can fail where the next one does not: try three times.
    let mut last = None;
    for _ in 0..3 {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&webdriver)
            .await
        {
            Ok(client) => return Chromium { client, _driver: child, _turn: turn },
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("no Chromium session through chromedriver after three tries: {last:?}");
}

/// Starts chromedriver on a port it picks itself (`--port=0`) and reads the port from the line
/// it prints when it listens. Picking a free port for it beforehand raced with the suite's other
/// sockets: a driver whose port was taken meanwhile exits at once, and the test used to wait its
/// whole bound for a driver that was gone (seen once in CI). A driver that exits is reported with
/// what it printed.
async fn start_driver(driver: &std::path::Path) -> (Child, u16) {
    let mut child = Command::new(driver)
        .arg("--port=0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
    let mut said = Vec::new();
    let port = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(port) = line
                .split_once("started successfully on port ")
                .and_then(|(_, rest)| rest.trim_end_matches('.').parse::<u16>().ok())
            {
                return Some(port);
            }
            said.push(line);
        }
        None
    })
    .await;
    match port {
        Ok(Some(port)) => {
            // Whatever it prints later goes nowhere, and never fills the pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            (child, port)
        }
        Ok(None) => {
            let status = child.wait().await;
            panic!("chromedriver stopped before it listened ({status:?}), having printed: {said:?}")
        }
        Err(elapsed) => panic!("chromedriver did not listen ({elapsed}), having printed: {said:?}"),
    }
}

/// Waits (up to 30 s) until chromedriver on `port` answers `/status` with `"ready": true`: a cold
/// machine (CI's first browser test, nothing of Chromium in the page cache yet) can take seconds.
async fn wait_until_ready(port: u16) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Ok(answer) = reqwest::get(format!("http://127.0.0.1:{port}/status")).await
            && let Ok(status) = answer.json::<Value>().await
            && status["value"]["ready"] == json!(true)
        {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "chromedriver is not ready after {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a browser test waits for chromedriver, or for an element: a bound for a cold, busy
/// machine (CI runs the browser tests beside the rest of the suite), not a timing.
const WAIT: Duration = Duration::from_secs(30);

pub(crate) fn testid(id: &str) -> String {
    format!("[data-testid='{id}']")
}

impl Chromium {
    pub(crate) async fn wait_for(&self, id: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(WAIT)
            .for_element(Locator::Css(&testid(id)))
            .await
            .unwrap_or_else(|e| panic!("{id} appears: {e}"))
    }

    pub(crate) async fn click(&self, id: &str) {
        self.wait_for(id).await.click().await.unwrap_or_else(|e| panic!("click {id}: {e}"));
    }

    pub(crate) async fn type_into(&self, id: &str, text: &str) {
        self.wait_for(id).await.send_keys(text).await.unwrap_or_else(|e| panic!("type into {id}: {e}"));
    }

    /// The page's one script is its own file for frames (`/widget/frame.js`): any other script
    /// element or handler was injected.
    pub(crate) async fn assert_no_script_ran(&self) {
        assert!(self.client.get_alert_text().await.is_err(), "no alert was opened");
        let scripts = self
            .client
            .execute(
                "return document.querySelectorAll('script:not([src=\"/widget/frame.js\"]), [onerror], [onload]').length",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(scripts, json!(0), "no script or handler in the page: {}", self.client.source().await.unwrap());
    }

    pub(crate) async fn close(self) {
        self.client.close().await.ok();
    }
}
