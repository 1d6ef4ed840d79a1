//! Debian's headless Chromium, driven over WebDriver (fantoccini) by chromedriver, for the browser
//! test: both in a process group of their own, ended with the test.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::common::{eventually, unique};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Where screenshots and downloads land: `target/browser-artifacts/`.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// chromedriver and the Chromium it starts, in one process group of their own: dropping this
/// ends both even when the test fails half way, and removes the throwaway profile.
struct Driver {
    process: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let group = -i32::try_from(self.process.id()).unwrap();
        // SAFETY: kill(2) on the process group this test created; it touches no memory.
        unsafe { libc::kill(group, libc::SIGKILL) };
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// A Chromium session, and the chromedriver behind it.
pub struct Browser {
    pub page: Client,
    _driver: Driver,
}

impl Browser {
    pub async fn start(downloads: &Path) -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: `make test` installs Debian's chromium and chromium-driver (dev/browser.sh)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let profile = Path::new(env!("CARGO_TARGET_TMPDIR")).join(unique("chromium-profile"));
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start chromedriver");
        let driver = Driver {
            process,
            profile: profile.clone(),
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        eventually("chromedriver to listen", || async {
            reqwest::get(format!("{webdriver}/status")).await.ok()
        })
        .await;
        // Without the networking flags Chromium keeps dialling Google's hosts, which this
        // machine's closed network refuses.
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--lang=en-US",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let page = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&webdriver)
            .await
            .expect("a Chromium session");
        Browser {
            page,
            _driver: driver,
        }
    }

    /// The visible text of the first match, or "" while there is none.
    pub async fn text(&self, css: &str) -> String {
        match self.page.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.page.find_all(Locator::Css(css)).await.unwrap() {
            texts.push(element.text().await.unwrap_or_default());
        }
        texts
    }

    /// Waits until the first match shows text that passes `check`, and returns that text.
    pub async fn wait_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        eventually(css, || async {
            let text = self.text(css).await;
            check(&text).then_some(text)
        })
        .await
    }

    pub async fn click(&self, css: &str) {
        self.page
            .wait()
            .for_element(Locator::Css(css))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    pub async fn fill(&self, css: &str, value: &str) {
        let field = self.page.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(value).await.unwrap();
    }

    pub async fn screenshot(&self, name: &str) {
        let png = self.page.screenshot().await.unwrap();
        std::fs::write(artifacts().join(format!("{name}.png")), png).unwrap();
    }
}
