//! Command lines of the examples.
//!
//! `everything <command> [options]`: one subcommand per transport, each parsing its own
//! options, so a new transport (`http --bind ADDR`) is one more arm in
//! [`parse_everything_args`].

use std::process;

/// Why a command line was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// `-h` or `--help`: print the usage and succeed.
    Help,
    /// Anything else: print the message and the usage, and fail.
    Invalid(String),
}

/// Prints `usage` and exits: on stdout with status 0 for [`ArgsError::Help`], on stderr with
/// status 2 (the convention for bad usage) otherwise.
pub fn exit_with_usage(usage: &str, error: ArgsError) -> ! {
    match error {
        ArgsError::Help => {
            print!("{usage}");
            process::exit(0)
        }
        ArgsError::Invalid(message) => {
            eprint!("error: {message}\n\n{usage}");
            process::exit(2)
        }
    }
}

/// What the `everything` server was asked to do. Deliberately exhaustive: a new transport
/// must be handled by every example that serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServeCommand {
    /// Serve one client on stdin/stdout.
    Stdio,
    /// Serve streamable HTTP (both eras) at `/mcp` on this address.
    Http {
        /// Where to listen, e.g. `127.0.0.1:3000`.
        bind: std::net::SocketAddr,
        /// `--auth ISSUER_URL`: require OAuth access tokens (JWTs) from this issuer.
        auth: Option<String>,
    },
    /// Serve newline-delimited JSON-RPC over TCP, one session per connection.
    Tcp {
        /// Where to listen, e.g. `127.0.0.1:3001`.
        bind: std::net::SocketAddr,
    },
}

/// The usage text of the `everything` server named `program`.
pub fn everything_usage(program: &str) -> String {
    format!(
        "usage: {program} <command>\n\
         \n\
         commands:\n  \
         stdio                 serve one client on stdin/stdout (diagnostics go to stderr)\n  \
         http --bind ADDR [--auth ISSUER_URL]\n                        serve streamable HTTP at http://ADDR/mcp (e.g. 127.0.0.1:3000);\n                        with --auth, only to holders of the issuer's access tokens\n  \
         tcp --bind ADDR       serve JSON-RPC lines over TCP, a session per connection\n"
    )
}

/// Parses the arguments of the `everything` server (without the program name).
pub fn parse_everything_args<I>(args: I) -> Result<ServeCommand, ArgsError>
where
    I: IntoIterator<Item = String>,
{
    let mut args = args.into_iter();
    let command = match args.next().as_deref() {
        Some("-h" | "--help") => return Err(ArgsError::Help),
        Some("stdio") => ServeCommand::Stdio,
        Some(kind @ ("http" | "tcp")) => {
            let bind = match (args.next().as_deref(), args.next()) {
                (Some("--bind"), Some(addr)) => addr
                    .parse()
                    .map_err(|e| ArgsError::Invalid(format!("bad --bind address `{addr}`: {e}")))?,
                _ => return Err(ArgsError::Invalid(format!("usage: {kind} --bind ADDR"))),
            };
            if kind == "tcp" {
                ServeCommand::Tcp { bind }
            } else {
                let auth = match args.next().as_deref() {
                    None => None,
                    Some("--auth") => Some(args.next().ok_or_else(|| {
                        ArgsError::Invalid("usage: http --bind ADDR --auth ISSUER_URL".into())
                    })?),
                    Some(other) => {
                        return Err(ArgsError::Invalid(format!("unexpected argument `{other}`")))
                    }
                };
                ServeCommand::Http { bind, auth }
            }
        }
        Some(other) => return Err(ArgsError::Invalid(format!("unknown command `{other}`"))),
        None => return Err(ArgsError::Invalid("missing command".into())),
    };
    no_more(args)?;
    Ok(command)
}

/// Options of the quickstart.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct QuickstartOptions {
    /// Speak the legacy handshake (`initialize`, 2025-11-25) instead of detecting the era.
    pub legacy: bool,
}

/// The usage text of the quickstart named `program`.
pub fn quickstart_usage(program: &str) -> String {
    format!(
        "usage: {program} [--legacy]\n\
         \n\
         Starts the `everything` example server as a child process and tours its features.\n\
         \n\
         options:\n  \
         --legacy    use the initialize handshake (2025-11-25) instead of detecting the era\n"
    )
}

/// Parses the arguments of the quickstart (without the program name).
pub fn parse_quickstart_args<I>(args: I) -> Result<QuickstartOptions, ArgsError>
where
    I: IntoIterator<Item = String>,
{
    let mut options = QuickstartOptions::default();
    for arg in args {
        match arg.as_str() {
            "-h" | "--help" => return Err(ArgsError::Help),
            "--legacy" => options.legacy = true,
            other => return Err(ArgsError::Invalid(format!("unknown argument `{other}`"))),
        }
    }
    Ok(options)
}

fn no_more(mut args: impl Iterator<Item = String>) -> Result<(), ArgsError> {
    match args.next() {
        Some(extra) => Err(ArgsError::Invalid(format!("unexpected argument `{extra}`"))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn everything_takes_one_command() {
        assert_eq!(
            parse_everything_args(args(&["stdio"])),
            Ok(ServeCommand::Stdio)
        );
        assert_eq!(
            parse_everything_args(args(&["--help"])),
            Err(ArgsError::Help)
        );
        assert_eq!(
            parse_everything_args(args(&["http", "--bind", "127.0.0.1:3000"])),
            Ok(ServeCommand::Http {
                bind: "127.0.0.1:3000".parse().unwrap(),
                auth: None,
            })
        );
        assert_eq!(
            parse_everything_args(args(&[
                "http",
                "--bind",
                "127.0.0.1:3000",
                "--auth",
                "https://auth.example.com"
            ])),
            Ok(ServeCommand::Http {
                bind: "127.0.0.1:3000".parse().unwrap(),
                auth: Some("https://auth.example.com".into()),
            })
        );
        assert_eq!(
            parse_everything_args(args(&["tcp", "--bind", "127.0.0.1:3001"])),
            Ok(ServeCommand::Tcp {
                bind: "127.0.0.1:3001".parse().unwrap()
            })
        );
        for bad in [
            &[][..],
            &["http"],
            &["tcp", "--bind"],
            &["http", "--bind", "nowhere"],
            &["http", "--bind", "127.0.0.1:1", "--auth"],
            &["tcp", "--bind", "127.0.0.1:1", "--auth", "x"],
            &["stdio", "extra"],
            &["--stdio"],
        ] {
            assert!(
                matches!(parse_everything_args(args(bad)), Err(ArgsError::Invalid(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn quickstart_takes_legacy_only() {
        assert_eq!(
            parse_quickstart_args(args(&[])),
            Ok(QuickstartOptions { legacy: false })
        );
        assert_eq!(
            parse_quickstart_args(args(&["--legacy"])),
            Ok(QuickstartOptions { legacy: true })
        );
        assert!(matches!(
            parse_quickstart_args(args(&["--modern"])),
            Err(ArgsError::Invalid(_))
        ));
    }
}
