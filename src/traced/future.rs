//! A traced future: polled inside its span, its output recorded when it is ready, a panic
//! recorded and resumed, and, dropped before it was ready, marked `metadata.cancelled`.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::call::Call;
use super::capture::Render;

pin_project! {
    /// A future traced by `#[trace]` on an `async fn`, or by `traced!` around an async block.
    #[must_use = "a future does nothing unless awaited"]
    pub struct TracedFuture<F: Future> {
        #[pin]
        inner: F,
        call: Call,
        render: Render<F::Output>,
        ret: bool,
    }
}

impl Call {
    /// `future`, traced: see [`TracedFuture`].
    #[doc(hidden)]
    pub fn future<F: Future>(
        self,
        future: F,
        render: Render<F::Output>,
        ret: bool,
    ) -> TracedFuture<F> {
        TracedFuture {
            inner: future,
            call: self,
            render,
            ret,
        }
    }
}

impl<F: Future> Future for TracedFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let polled = {
            let _entered = this.call.span.enter();
            let inner = this.inner;
            catch_unwind(AssertUnwindSafe(|| inner.poll(cx)))
        };
        match polled {
            Ok(Poll::Ready(value)) => {
                this.call.finish(&value, *this.render, *this.ret);
                Poll::Ready(value)
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                this.call.panicked(payload.as_ref());
                resume_unwind(payload)
            }
        }
    }
}

impl<F: Future + std::fmt::Debug> std::fmt::Debug for TracedFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TracedFuture")
            .field("inner", &self.inner)
            .field("span", &self.call.span)
            .finish_non_exhaustive()
    }
}
