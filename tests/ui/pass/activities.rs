// Activities are about the operator: no selector; they take the settings, the activity,
// the logger, the attempt, the operator memo and param.
#[kopf::on::startup(retries = 3, backoff = 1.0, param = "warm")]
async fn startup_fn(
    settings: kopf::OperatorSettings,
    activity: kopf::ActivityKind,
    logger: kopf::Logger,
    retry: kopf::Retry,
    param: kopf::Param<String>,
) -> kopf::Result<()> {
    logger.info(format!("{activity} attempt {} with {}", *retry, *param));
    settings.update(|s| s.execution.default_backoff = 5.0);
    Ok(())
}

#[kopf::on::cleanup]
fn cleanup_fn(memo: kopf::OperatorMemo<u32>) {
    let _ = *memo;
}

#[kopf::on::login(id = "token-login")]
async fn login_fn(started: kopf::Started) -> kopf::Result<kopf::ConnectionInfo> {
    let _ = started;
    Ok(kopf::ConnectionInfo::with_token("https://127.0.0.1:6443", "token"))
}

#[kopf::on::probe()]
fn probe_fn(runtime: kopf::Runtime) -> Option<u64> {
    Some(runtime.as_secs())
}

fn main() {}
