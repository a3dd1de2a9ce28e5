//! `pov`: the wallet and cooperative command-line tool.
//!
//! `main` only parses, runs and turns the outcome into an exit code (`exit.rs`): in text
//! mode errors go to stderr as `error: ...`; with `--output json` they are one JSON object
//! `{"error": {"code", "message"}}` on stdout, like every other result.

mod cli;
mod commands;
mod config;
mod exit;
mod fsutil;
mod keystore;
mod node;
mod output;
mod seals;

use clap::Parser;

use crate::output::Format;

/// True when the raw command line or the environment asks for JSON, for errors that happen
/// before the arguments are parsed.
fn json_requested(args: &[String]) -> bool {
    let flag = args
        .windows(2)
        .any(|w| (w[0] == "--output" || w[0] == "-o") && w[1] == "json")
        || args
            .iter()
            .any(|a| a == "--output=json" || a == "-ojson" || a == "-o=json");
    flag || std::env::var("POV_OUTPUT").is_ok_and(|v| v == "json")
}

/// clap's message without its decoration: the lines before `Usage:`, on one line.
fn usage_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let lines: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let joined = lines.join(" ");
    joined
        .strip_prefix("error: ")
        .unwrap_or(&joined)
        .to_string()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cli = match cli::Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            let is_help = matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            );
            if !is_help && json_requested(&args) {
                let _ = output::json(&output::error_json("usage", &usage_message(&e)));
                std::process::exit(exit::USAGE);
            }
            e.exit();
        }
    };
    let mut format = cli.global.output.unwrap_or_default();
    let result = commands::Ctx::new(&cli.global).and_then(|ctx| {
        format = ctx.format;
        commands::run(&ctx, cli.command)
    });
    let code = match result {
        Ok(code) => code,
        Err(err) => {
            let code = exit::classify(&err);
            match format {
                Format::Text => eprintln!("error: {err:#}"),
                Format::Json => {
                    let _ = output::json(&output::error_json(
                        &exit::code_name(&err),
                        &format!("{err:#}"),
                    ));
                }
            }
            code
        }
    };
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_detected_in_every_spelling() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(json_requested(&args(&[
            "pov", "status", "--output", "json"
        ])));
        assert!(json_requested(&args(&["pov", "-o", "json", "status"])));
        assert!(json_requested(&args(&["pov", "status", "--output=json"])));
        let env_json = std::env::var("POV_OUTPUT").is_ok_and(|v| v == "json");
        assert_eq!(
            json_requested(&args(&["pov", "status", "--output", "text"])),
            env_json
        );
    }
}
