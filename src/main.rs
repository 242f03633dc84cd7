//! The `crossleak` binary: parse the command line, run the library, exit with the documented code.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match crossleak::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // clap exits 2 on a usage error, 0 for --help and --version: the same contract as ours.
            return ExitCode::from(error.exit_code() as u8);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::from(2);
        }
    };
    let status = runtime.block_on(crossleak::cli::run(cli));
    ExitCode::from(status.exit_code())
}
