//! Running blocking device work (a PKCS#11 call, a batch of RSA signatures) from async
//! code without stalling the executor: a server signs for many clients on a few
//! threads, and one slow token must not hold the others up.

use crate::signer::SignerError;

/// Runs `work` on the tokio blocking pool when called inside a tokio runtime (either
/// flavour), and inline otherwise (another executor, or none).
pub async fn run_blocking<T, F>(work: F) -> Result<T, SignerError>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle
            .spawn_blocking(work)
            .await
            .map_err(|e| SignerError::Device(format!("the signing thread failed: {e}"))),
        Err(_) => Ok(work()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn runs_off_the_executor_thread_inside_tokio_and_inline_outside() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let here = std::thread::current().id();
        let there = rt
            .block_on(run_blocking(|| std::thread::current().id()))
            .unwrap();
        assert_ne!(here, there, "inside tokio: on the blocking pool");
        let inline = futures_lite_block_on(run_blocking(|| std::thread::current().id())).unwrap();
        assert_eq!(here, inline, "outside tokio: inline");
    }

    /// Polls a future that never waits, without any runtime.
    fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut f = std::pin::pin!(f);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }
}
