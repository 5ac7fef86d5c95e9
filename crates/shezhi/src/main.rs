//! 社智在线 shezhi — one binary for a community on a laptop or a whole city.
//!
//! ```text
//! shezhi demo                          # real Chengdu on an embedded SQLite file, served on :8080
//! shezhi serve --database-url postgres://postgres@127.0.0.1/shezhi
//! shezhi keygen > data.key             # a data key for personal data at rest
//! shezhi generate --scale city --data-key-file data.key   # the synthetic register
//! shezhi import divisions my-city.csv  # replace the built-in divisions / grids
//! shezhi import grids my-grids.geojson
//! shezhi bench geocode                 # point lookups per second vs a brute-force scan
//! shezhi openapi > docs/openapi.json
//! ```

mod cmd;
mod config;

use clap::Parser;
use config::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let cfg = match config::Config::load(&cli) {
        Ok(c) => c,
        Err(e) => return cmd::fail(&e),
    };
    config::init_tracing(&cfg);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return cmd::fail(&cmd::CliError::io("tokio runtime", e)),
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Serve => cmd::serve::run(&cfg, None).await,
            Command::Generate(args) => cmd::register::generate(&cfg, args).await,
            Command::Admin(args) => cmd::admin::admin(&cfg, args).await,
            Command::Audit(args) => cmd::admin::audit(&cfg, args).await,
            Command::Keygen => {
                println!("{}", cmd::serve::new_key().to_hex());
                Ok(())
            }
            Command::Demo(args) => cmd::serve::demo(&cfg, args).await,
            Command::Import(args) => cmd::import::run(&cfg, args).await,
            Command::Migrate => cmd::migrate(&cfg).await,
            Command::Bench(args) => cmd::bench::run(&cfg, args).await,
            Command::Openapi => {
                print!("{}", shezhi_http::openapi::document());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cmd::fail(&e),
    }
}
