//! `kopf freeze` and `kopf resume`: pause and resume the operators of a peering from the
//! command line, as kopf's commands do, by writing a high-priority keep-alive into the
//! peering object (and removing it).

use clap::Args;
use kopf_core::clients::client::connect;
use kopf_core::clients::peering::detect_own_id;
use kopf_core::engines::peering::touch_command;
use kopf_core::settings::DEV_PRIORITY;
use std::process::ExitCode;

/// Where the peering objects are: kopf's `-n`/`-A`.
#[derive(Args, Debug)]
pub struct Scope {
    /// The namespaces whose `KopfPeering` objects to write (repeatable).
    #[arg(short = 'n', long = "namespace", value_delimiter = ',')]
    namespaces: Vec<String>,
    /// The cluster-wide `ClusterKopfPeering` object (the default without --namespace).
    #[arg(short = 'A', long = "all-namespaces")]
    all_namespaces: bool,
}

impl Scope {
    fn namespaces(&self) -> Result<Option<Vec<String>>, String> {
        match (self.all_namespaces, self.namespaces.is_empty()) {
            (true, false) => {
                Err("Either --namespace or --all-namespaces can be used, not both.".into())
            }
            (_, true) => Ok(None),
            (false, false) => Ok(Some(self.namespaces.clone())),
        }
    }
}

#[derive(Args, Debug)]
pub struct FreezeArgs {
    #[command(flatten)]
    scope: Scope,
    /// The identity written (default: user@host).
    #[arg(short = 'i', long)]
    id: Option<String>,
    /// Priority 666, as `kopf run --dev`.
    #[arg(long)]
    dev: bool,
    /// The peering object's name.
    #[arg(short = 'P', long = "peering", env = "KOPF_FREEZE_PEERING")]
    peering: String,
    /// The freeze's priority: operators of lower priority pause.
    #[arg(short = 'p', long, default_value_t = 100)]
    priority: i64,
    /// Seconds until the freeze expires by itself.
    #[arg(short = 't', long)]
    lifetime: u32,
    /// Why (kept for kopf's command line; not written).
    #[arg(short = 'm', long)]
    message: Option<String>,
}

#[derive(Args, Debug)]
pub struct ResumeArgs {
    #[command(flatten)]
    scope: Scope,
    /// The identity whose freeze is removed (default: user@host).
    #[arg(short = 'i', long)]
    id: Option<String>,
    /// The peering object's name.
    #[arg(short = 'P', long = "peering", env = "KOPF_RESUME_PEERING")]
    peering: String,
}

pub fn freeze(args: FreezeArgs) -> ExitCode {
    let priority = if args.dev {
        DEV_PRIORITY
    } else {
        args.priority
    };
    let _ = &args.message;
    write(
        &args.scope,
        args.id,
        &args.peering,
        priority,
        i64::from(args.lifetime.max(1)),
    )
}

pub fn resume(args: ResumeArgs) -> ExitCode {
    write(&args.scope, args.id, &args.peering, 0, 0)
}

fn write(
    scope: &Scope,
    id: Option<String>,
    peering: &str,
    priority: i64,
    lifetime: i64,
) -> ExitCode {
    let namespaces = match scope.namespaces() {
        Ok(namespaces) => namespaces,
        Err(err) => {
            eprintln!("kopf: {err}");
            return ExitCode::from(2);
        }
    };
    let identity = id.unwrap_or_else(|| detect_own_id(true));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("kopf: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let client = connect().await.map_err(|err| err.to_string())?;
        touch_command(&client, peering, namespaces, &identity, priority, lifetime)
            .await
            .map_err(|err| err.to_string())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kopf: {err}");
            ExitCode::FAILURE
        }
    }
}
