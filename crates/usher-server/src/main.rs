//! The `usher` binary: logging, the command line, and nothing else.

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("usher_server=info,tower_http=warn"));
    // `USHER_LOG_FORMAT=json`: one JSON object per line, with the fields of the spans around the
    // event (a request's `request_id` and `trace_id`, which its 5xx body carries) under `spans`.
    let json = std::env::var("USHER_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        logs.json().with_current_span(true).with_span_list(true).init();
    } else {
        logs.init();
    }
    match usher_server::cli::run(usher_server::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usher: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
