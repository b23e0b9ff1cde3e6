//! The command line: one file per subcommand, its options beside its code
//! (`generate`, `run`, `stats`, `load`); `fleet` holds the options that
//! `generate` and `run` share and builds the fleet from them, `parse` the
//! option values' parsers.

use clap::{Parser, Subcommand};

mod fleet;
mod generate;
mod load;
mod parse;
mod run;
mod stats;

use generate::{GenerateArgs, generate};
use load::{LoadArgs, load};
use run::{RunArgs, run};
use stats::{StatsArgs, stats};

#[derive(Parser)]
#[command(
    name = "meter-sim",
    version,
    about = "Simulated elderly households and their smart water meters."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a dataset: DIR/readings.jsonl (native JSON lines sorted by ts) and DIR/truth.json.
    Generate(GenerateArgs),
    /// Publish readings live to an MQTT broker, on a clock running SPEED times real time, until Ctrl-C.
    Run(RunArgs),
    /// Print statistics of the simulated households (daily volume, quiet nights, gaps, outings).
    Stats(StatsArgs),
    /// Drive load: METERS meters publishing RATE messages/s for DURATION, then report what was acknowledged.
    Load(LoadArgs),
}

pub(crate) fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate(args) => generate(args),
        Command::Run(args) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(run(args))
        }
        Command::Stats(args) => stats(args),
        Command::Load(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(load(args))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_refused_at_parse_time() {
        for args in [
            ["meter-sim", "generate", "--out", "x", "--interval", "500ms"],
            [
                "meter-sim",
                "generate",
                "--out",
                "x",
                "--scenario",
                "collapse:3",
            ],
            ["meter-sim", "generate", "--out", "x", "--utc-offset", "8"],
            ["meter-sim", "run", "--speed", "0", "--seed", "1"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?}");
        }
    }
}
