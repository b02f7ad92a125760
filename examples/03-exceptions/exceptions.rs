//! kopf's example 03-exceptions: how errors decide retries. A permanent error is final; a
//! temporary one is retried after its delay; an arbitrary error is retried by `backoff` up
//! to `retries`, or is final at once with `errors = kopf::Errors::Permanent`.
//!
//! ```sh
//! kopf run examples/03-exceptions/exceptions.rs --verbose --embedded --apply examples/crd.yaml --apply examples/obj.yaml
//! ```

/// An error of the operator's own.
#[derive(Debug)]
struct MyException(&'static str);

impl std::fmt::Display for MyException {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for MyException {}

#[kopf::on::create("kopfexamples")]
fn instant_failure_with_only_a_message() -> kopf::Result<()> {
    Err(kopf::PermanentError::new("Fail once and for all."))?
}

#[kopf::on::create("kopfexamples")]
fn eventual_success_with_a_few_messages(retry: kopf::Retry) -> kopf::Result<()> {
    if *retry < 3 {
        // 0, 1, 2, 3
        return Err(kopf::TemporaryError::new("Expected recoverable error.").with_delay(1.0))?;
    }
    Ok(())
}

#[kopf::on::create("kopfexamples", retries = 3, backoff = 1.0)]
fn eventual_failure_with_tracebacks() -> kopf::Result<()> {
    Err(MyException("An error that is supposed to be recoverable."))?
}

#[kopf::on::create("kopfexamples", errors = kopf::Errors::Permanent, backoff = 1.0)]
fn instant_failure_with_traceback() -> kopf::Result<()> {
    Err(MyException("An error that is supposed to be recoverable."))?
}
