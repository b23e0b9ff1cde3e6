//! `meter-sim`: writes simulated datasets to files, or publishes simulated
//! meters live to an MQTT broker on an accelerated clock.
//!
//! The command line is in `cli/`, one file per subcommand.

mod cli;

fn main() -> anyhow::Result<()> {
    cli::main()
}
