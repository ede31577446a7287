//! Helpers for Watchfire's own tests, shared by the crates' integration tests so each
//! does not grow its own copy. Only ever a dev-dependency.
//!
//! * [`serve`]: an axum router on an ephemeral loopback port.
//! * [`tls`]: a throwaway CA and server certificate made with the `openssl` CLI, and a
//!   minimal HTTPS/1.1 server that answers every request with one fixed response.
//!
//! Setup failures panic with a message: in a test that is the clearest report, and
//! none of this runs outside tests.
#![deny(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support: a failed setup should fail the test"
)]

pub mod tls;

/// Serves `app` on an ephemeral 127.0.0.1 port from a background task and returns
/// its address. The server lives as long as the test's runtime.
pub async fn serve(app: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}
