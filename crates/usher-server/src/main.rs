//! The `usher` binary: logging, the command line, and nothing else.

use clap::Parser as _;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("usher_server=info,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    match usher_server::cli::run(usher_server::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usher: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
