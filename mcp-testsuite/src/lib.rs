//! The behavioural suite, written once and run by every runtime crate.
//!
//! Each case is an async fn generic over [`Runtime`]; [`suite!`] expands to one `#[test]` per
//! case for a given runtime and `block_on`. Runtime crates call it from their own tests, so
//! tokio, smol and async-std run the same cases and report the same count.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use mcp_driver::mcp_proto::jsonrpc::ErrorObject;
use mcp_driver::mcp_proto::schema::elicitation::{ElicitRequestParams, ElicitResult};
use mcp_driver::mcp_proto::schema::lifecycle::{
    ClientCapabilities, ElicitationCapability, RootsCapability, ServerCapabilities, ToolsCapability,
};
use mcp_driver::mcp_proto::schema::messages::ClientRequest;
use mcp_driver::mcp_proto::schema::roots::ListRootsResult;
use mcp_driver::mcp_proto::schema::subscriptions::SubscriptionFilter;
use mcp_driver::mcp_proto::schema::tools::CallToolResult;
use mcp_driver::mcp_proto::schema::{Era, Implementation};
use mcp_driver::mcp_proto::session::{
    ClientConfig, EraPreference, RequestError, RequestOptions, ServerConfig, Timeout,
};
use mcp_driver::{
    BoxFuture, CallError, Client, ClientHandler, Handler, HandlerResult, NoHandler, RequestCx,
    Runtime, Service,
};
use serde_json::json;

pub mod accept;
pub use accept::{accept_errors_are_survived, connections_are_capped};
pub mod asks;
pub mod builder;
pub mod child;
pub mod crossing;
pub use crossing::a_cancel_crossing_a_response_changes_nothing;
pub mod fair_streams;
pub mod flow;
pub use flow::{
    a_peer_that_never_reads_costs_bounded_memory,
    notifications_to_a_client_that_never_reads_are_cut_off,
};
pub mod hostile;
pub mod hostile_http;
pub mod http;
pub mod messages;
pub mod oauth;
pub mod pipe;
pub mod protected;
pub mod python;
pub mod stall;
pub mod tasks;

#[doc(hidden)]
pub use mcp_driver::Runtime as __Runtime;

/// How long one suite case or driver test may run before the watchdog fails it. Far past
/// what the slowest case takes on a loaded 2-core machine (a few seconds), so only a hang
/// (a lost wakeup, an answer that never comes) ever reaches it.
pub const WATCHDOG: Duration = Duration::from_secs(120);

/// Runs a whole test under the watchdog: a test that would hang fails after [`WATCHDOG`]
/// with a message naming it, instead of stalling the run until CI's own timeout.
///
/// Every suite case runs under it (the [`suite!`] macros), and so does every driver test
/// of the runtime crates (`mcp_testsuite::watchdog(TokioRuntime, "name", async { .. })`).
pub async fn watchdog<R: Runtime, T>(rt: R, test: &str, f: impl Future<Output = T>) -> T {
    let what = format!(
        "watchdog: `{test}` still running after {WATCHDOG:?}: a hang (lost wakeup, missing \
         answer, deadlock), not slowness"
    );
    // On the heap: some cases' futures are large, and block_on keeps its future on the
    // test thread's stack.
    within(&rt, WATCHDOG, &what, Box::pin(f)).await
}

/// Runs `f`, failing (panicking with `what`) if it takes longer than `limit`: a guard
/// against hangs that never delays a future that ends.
pub async fn within<R: Runtime, T>(
    rt: &R,
    limit: Duration,
    what: &str,
    f: impl Future<Output = T>,
) -> T {
    let deadline = rt.now() + limit;
    let expired = async {
        rt.sleep_until(deadline).await;
        panic!("{what}: no outcome within {limit:?}")
    };
    futures_lite::future::or(f, expired).await
}

/// Expands to one `#[test]` per suite case. `$rt` is an expression giving the runtime,
/// `$block_on` a function running a future to completion on it, `$net` its
/// [`http::Net`] and `$procs` its [`child::Processes`].
#[macro_export]
macro_rules! suite {
    ($rt:expr, $block_on:path, $net:expr, $procs:expr) => {
        // The HTTP cases, and those that need the runtime's own listener (a server on
        // another clock, a peer's server), which a mounted endpoint would only repeat.
        $crate::http_suite!(@list $rt, $block_on, $net;
            http_tasks_expire_after_their_ttl,
            python_server_over_http,
        );
        $crate::suite!(@child $rt, $block_on, $procs;
            a_server_writing_garbage_fails_the_handshake,
            a_silent_server_times_out,
            a_server_exiting_at_once_is_a_connect_error,
            a_missing_program_is_a_spawn_error,
            a_server_killed_mid_call_fails_the_call,
            dropping_the_handle_kills_the_child,
            graceful_shutdown_ends_the_child,
            shutdown_escalates_to_sigterm_then_sigkill,
            a_hostile_stdio_peer_gets_one_answer_per_request_in_bounded_memory,
            a_hostile_http_peer_gets_one_answer_per_request_in_bounded_memory,
            a_hostile_tcp_peer_gets_one_answer_per_request_in_bounded_memory,
            python_server_over_stdio,
        );
        $crate::suite!(@cases $rt, $block_on;
            [
                calls_round_trip_in_both_eras,
                concurrent_calls_all_complete,
                progress_reaches_the_callback,
                dropping_a_call_cancels_it_on_the_server,
                errors_and_disconnects_reach_the_caller,
                the_same_handler_asks_in_both_eras,
                tampered_request_state_is_refused,
                server_shutdown_fails_pending_calls,
                client_disconnect_drops_server_handlers,
                listen_streams_deliver_and_end,
                handlers_see_their_own_cancellation,
                request_timeouts_fire,
                panicking_handlers_answer_errors_and_the_connection_lives_on,
                closing_is_awaitable,
            ]
            tasks [
                tasks::tasks_run_from_creation_to_result,
                tasks::tasks_cancelled_while_working_stop_their_handler,
                tasks::tasks_fail_with_the_calls_own_error,
                tasks::tasks_ask_their_client_in_both_eras,
                crossing::tasks_expire_after_their_ttl,
                crossing::a_task_cancel_crossing_its_result_keeps_the_result,
                asks::url_elicitation_end_to_end,
                asks::url_elicitation_required_then_retried,
                asks::sampling_with_tools_needs_the_capability,
            ]
            builder [
                typed_tools_and_their_schemas,
                structured_output_matches_its_schema,
                tool_failures_are_results_and_unknown_tools_are_errors,
                state_reaches_handlers,
                tools_report_progress,
                lists_are_paginated,
                resources_text_binary_and_templates,
                prompts_with_and_without_arguments,
                completions_are_capped_at_100,
                runtime_changes_reach_connected_clients,
                resource_updates_reach_subscribers,
                log_messages_follow_the_clients_level,
            ]
            pipe [
                a_dropped_connection_future_ends_its_session,
                a_cancel_crossing_a_response_changes_nothing,
                a_peer_that_never_reads_costs_bounded_memory,
                notifications_to_a_client_that_never_reads_are_cut_off,
                accept_errors_are_survived,
                connections_are_capped,
            ]
            messages [
                messages_are_held_to_the_frame_limit,
                a_message_peer_that_never_takes_any_costs_bounded_memory,
            ]
        );
    };
    (@http $rt:expr, $block_on:path, $net:expr; $($case:ident),* $(,)?) => {
        mod over_http {
            $(
                #[test]
                fn $case() {
                    super::__suite_run(stringify!($case), $rt, || $crate::http::$case($rt, $net));
                }
            )*
        }
    };
    (@oauth $rt:expr, $block_on:path, $net:expr; $($case:ident),* $(,)?) => {
        mod over_oauth {
            $(
                #[test]
                fn $case() {
                    super::__suite_run(stringify!($case), $rt, || $crate::oauth::$case($rt, $net));
                }
            )*
        }
    };
    (@child $rt:expr, $block_on:path, $procs:expr; $($case:ident),* $(,)?) => {
        mod over_child {
            $(
                #[test]
                fn $case() {
                    super::__suite_run(stringify!($case), $rt, || $crate::child::$case($rt, $procs));
                }
            )*
        }
    };
    (@cases $rt:expr, $block_on:path;
        [$($case:ident),* $(,)?] tasks [$($m:ident :: $task:ident),* $(,)?]
        builder [$($b:ident),* $(,)?]
        pipe [$($pipe:ident),* $(,)?]
        messages [$($msg:ident),* $(,)?]) => {
        fn __suite_run<R: $crate::__Runtime, F: ::std::future::Future>(
            case: &str,
            rt: R,
            f: impl FnOnce() -> F,
        ) -> F::Output {
            $block_on($crate::watchdog(rt, case, f()))
        }
        mod over_pipe {
            $(
                #[test]
                fn $case() {
                    super::__suite_run(stringify!($case), $rt, || $crate::$case($rt, $crate::Link::Pipe));
                }
            )*
            $(
                #[test]
                fn $task() {
                    super::__suite_run(stringify!($task), $rt, || $crate::$m::$task($rt, $crate::Link::Pipe));
                }
            )*
            $(
                #[test]
                fn $pipe() {
                    super::__suite_run(stringify!($pipe), $rt, || $crate::$pipe($rt));
                }
            )*
        }
        mod builder {
            $(
                #[test]
                fn $b() {
                    super::__suite_run(stringify!($b), $rt, || $crate::builder::$b($rt));
                }
            )*
        }
        mod over_messages {
            $(
                #[test]
                fn $case() {
                    super::__suite_run(stringify!($case), $rt, || $crate::$case($rt, $crate::Link::Messages));
                }
            )*
            $(
                #[test]
                fn $task() {
                    super::__suite_run(stringify!($task), $rt, || $crate::$m::$task($rt, $crate::Link::Messages));
                }
            )*
            $(
                #[test]
                fn $msg() {
                    super::__suite_run(stringify!($msg), $rt, || $crate::messages::$msg($rt));
                }
            )*
        }
        mod in_process {
            $(
                #[test]
                fn $case() {
                    super::__suite_run(stringify!($case), $rt, || $crate::$case($rt, $crate::Link::InProcess));
                }
            )*
            $(
                #[test]
                fn $task() {
                    super::__suite_run(stringify!($task), $rt, || $crate::$m::$task($rt, $crate::Link::InProcess));
                }
            )*
        }
    };
}

/// Expands to one `#[test]` per streamable-HTTP case of the suite only, with `$net` serving
/// the endpoint (see [`http::Net::serve_mcp`]): the same cases, another way of mounting.
#[macro_export]
macro_rules! http_suite {
    ($rt:expr, $block_on:path, $net:expr) => {
        fn __suite_run<R: $crate::__Runtime, F: ::std::future::Future>(
            case: &str,
            rt: R,
            f: impl FnOnce() -> F,
        ) -> F::Output {
            $block_on($crate::watchdog(rt, case, f()))
        }
        $crate::http_suite!(@list $rt, $block_on, $net);
    };
    (@list $rt:expr, $block_on:path, $net:expr $(; $($extra:ident),* $(,)?)?) => {
        $crate::suite!(@http $rt, $block_on, $net;
            http_calls_round_trip_in_both_eras,
            http_asks_in_both_eras,
            http_concurrent_calls_grow_the_pool,
            http_progress_reaches_the_callback,
            http_dropping_a_call_cancels_it,
            http_a_cut_stream_is_resumed,
            http_an_ended_session_is_reopened,
            http_tls_with_rustls,
            http_tasks_find_their_task_on_every_exchange,
            http_panicking_handlers_answer_errors,
            http_a_stalled_server_cannot_hold_the_client,
            http_one_client_at_its_stream_limit_does_not_lock_out_another,
            $($($extra,)*)?
        );
        $crate::suite!(@oauth $rt, $block_on, $net;
            oauth_concurrent_401s_cause_one_token_request_and_rotation_holds,
            oauth_step_up_on_403_and_the_get_stream_carries_the_token,
            oauth_a_stored_expired_token_is_refreshed_before_use,
            oauth_file_store_persists_and_refreshes_reloaded_tokens,
            oauth_dpop_proofs_and_the_resources_nonce,
            oauth_protected_server_against_oidc_provider,
        );
    };
}

/// Whether a missing interop peer fails the test instead of skipping it: `MCP_REQUIRE_INTEROP`
/// set to anything but `0` (CI sets it to `1`).
pub fn interop_required() -> bool {
    std::env::var("MCP_REQUIRE_INTEROP").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// An interop test that cannot run because `why` (a peer is missing): records the skip,
/// then panics under [`interop_required`], or returns `None` for the test to return early.
/// The record is a line `MCP-INTEROP-SKIPPED <test>: <why>` on stdout and,
/// when `MCP_SKIP_LOG` names a file, appended to it, where `scripts/test` collects the
/// skips of a whole run into its summary.
pub fn interop_skip<T>(why: &str) -> Option<T> {
    let test = std::thread::current()
        .name()
        .unwrap_or("an unnamed test")
        .to_owned();
    let line = format!("MCP-INTEROP-SKIPPED {test}: {why}");
    println!("{line}");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("MCP_SKIP_LOG") {
        use std::io::Write;
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            panic!("cannot record the skip in {}: {e}", path.to_string_lossy());
        }
    }
    if interop_required() {
        panic!("{why} (MCP_REQUIRE_INTEROP is set: a missing peer fails the test)");
    }
    None
}

/// A runtime-neutral one-shot signal.
#[derive(Clone, Default)]
pub struct Signal(Arc<Mutex<(bool, Vec<Waker>)>>);

impl Signal {
    /// Sets the signal and wakes waiters.
    pub fn set(&self) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        g.0 = true;
        for w in g.1.drain(..) {
            w.wake();
        }
    }

    /// Completes once set.
    pub fn wait(&self) -> impl Future<Output = ()> + '_ {
        futures_lite::future::poll_fn(move |cx: &mut Context<'_>| {
            let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if g.0 {
                Poll::Ready(())
            } else {
                g.1.push(cx.waker().clone());
                Poll::Pending
            }
        })
    }
}

/// Counts the handlers of the fixture's `gather` tool in flight at once, and holds each until
/// as many as a call asks for have arrived: a barrier. Calls that do not overlap (awaited one
/// after another, or handlers run one at a time) never reach it.
#[derive(Clone, Default)]
pub struct Gathering(Arc<Mutex<GatheringState>>);

#[derive(Default)]
struct GatheringState {
    in_flight: usize,
    peak: usize,
    waiting: Vec<Waker>,
}

impl Gathering {
    /// The most `gather` handlers that ran at once.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GatheringState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Enters, then waits until `n` handlers have been in flight together.
    async fn meet(&self, n: usize) {
        {
            let mut g = self.lock();
            g.in_flight += 1;
            g.peak = g.peak.max(g.in_flight);
            if g.peak >= n {
                for w in g.waiting.drain(..) {
                    w.wake();
                }
            }
        }
        let _leave = Leave(self.clone());
        futures_lite::future::poll_fn(|cx: &mut Context<'_>| {
            let mut g = self.lock();
            if g.peak >= n {
                Poll::Ready(())
            } else {
                g.waiting.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
    }
}

/// Leaves the gathering when a `gather` handler ends, however it ends.
struct Leave(Gathering);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.lock().in_flight -= 1;
    }
}

/// Runs every future at once on the calling task; their outputs in order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    futures_lite::future::poll_fn(|cx: &mut Context<'_>| {
        let mut pending = false;
        for (f, slot) in futures.iter_mut().zip(out.iter_mut()) {
            if slot.is_none() {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => *slot = Some(v),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(out.iter_mut().filter_map(Option::take).collect())
        }
    })
    .await
}

/// Sets a signal when dropped (observes a handler being dropped on cancel).
struct SetOnDrop(Signal);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set();
    }
}

/// The handler every case serves: a few tools exercising the driver.
#[derive(Clone, Default)]
pub struct Fixture {
    /// Set when `hang` starts.
    pub started: Signal,
    /// Set when `hang` is dropped.
    pub dropped: Signal,
    /// Set by `watchful`'s own cancellation branch.
    pub saw_cancel: Signal,
    /// The `gather` handlers in flight.
    pub gathering: Gathering,
}

fn internal(e: impl std::fmt::Display) -> ErrorObject {
    ErrorObject::internal(e.to_string())
}

impl Handler for Fixture {
    fn handle(&self, request: ClientRequest, cx: RequestCx) -> BoxFuture<'static, HandlerResult> {
        let me = self.clone();
        Box::pin(async move {
            let ClientRequest::CallTool(p) = request else {
                return Err(ErrorObject::method_not_found(request.method()));
            };
            match p.name.as_str() {
                "echo" => {
                    let text = p
                        .arguments
                        .and_then(|a| a.get("text").cloned())
                        .unwrap_or_default();
                    Ok(CallToolResult::text(text.as_str().unwrap_or_default()).into())
                }
                "gather" => {
                    // Answers `text` once `n` gather calls are in flight together.
                    let args = p.arguments.unwrap_or_default();
                    let n = args.get("n").and_then(|n| n.as_u64()).unwrap_or(1);
                    let n = usize::try_from(n).map_err(internal)?;
                    me.gathering.meet(n).await;
                    let text = args.get("text").and_then(|t| t.as_str()).unwrap_or("");
                    Ok(CallToolResult::text(text).into())
                }
                "progress" => {
                    for i in 1..=3 {
                        cx.progress(i as f64, Some(3.0), None).map_err(internal)?;
                    }
                    Ok(CallToolResult::text("done").into())
                }
                "hang" => {
                    let _dropped = SetOnDrop(me.dropped.clone());
                    me.started.set();
                    std::future::pending::<()>().await;
                    Ok(CallToolResult::text("never").into())
                }
                "resumable" => {
                    cx.progress(1.0, Some(3.0), None).map_err(internal)?;
                    // Over legacy HTTP the client must now reconnect and resume.
                    let cut = cx.close_sse_stream();
                    cx.progress(2.0, Some(3.0), None).map_err(internal)?;
                    cx.progress(3.0, Some(3.0), None).map_err(internal)?;
                    let text = if cut {
                        "resumed after a cut"
                    } else {
                        "never cut"
                    };
                    Ok(CallToolResult::text(text).into())
                }
                "held" => {
                    // Starts its response stream with a progress report, then holds it
                    // until cancelled.
                    cx.progress(0.0, None, None).map_err(internal)?;
                    cx.cancelled().await;
                    Ok(CallToolResult::text("cancelled").into())
                }
                "watchful" => {
                    me.started.set();
                    let work = std::future::pending::<()>();
                    futures_lite::future::or(work, cx.cancelled()).await;
                    me.saw_cancel.set();
                    Ok(CallToolResult::text("cancelled").into())
                }
                "ask" => {
                    let form = |m: &str| -> ElicitRequestParams {
                        serde_json::from_value(json!({
                            "message": m,
                            "requestedSchema": {"type": "object", "properties": {"v": {"type": "string"}}}
                        }))
                        .unwrap_or_else(|_| unreachable!("a valid literal"))
                    };
                    let a = cx.elicit(form("first?")).await.map_err(internal)?;
                    let b = cx.elicit(form("second?")).await.map_err(internal)?;
                    let roots = cx.list_roots().await.map_err(internal)?;
                    let v = |r: &ElicitResult| {
                        r.content
                            .as_ref()
                            .and_then(|c| serde_json::to_value(c).ok())
                            .and_then(|c| c["v"].as_str().map(str::to_owned))
                            .unwrap_or_default()
                    };
                    Ok(
                        CallToolResult::text(format!("{}+{}+{}", v(&a), v(&b), roots.roots.len()))
                            .into(),
                    )
                }
                "panic" => panic!("the fixture's tool panics on purpose"),
                other => Err(ErrorObject::invalid_params(format!("unknown tool {other}"))),
            }
        })
    }
}

/// Answers elicitations with a counter and lists one root.
#[derive(Default)]
pub struct Answers(pub AtomicUsize);

impl ClientHandler for Answers {
    fn elicit(
        &self,
        _p: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        let n = self.0.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            serde_json::from_value(json!({"action": "accept", "content": {"v": format!("a{n}")}}))
                .map_err(internal)
        })
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        Box::pin(async {
            serde_json::from_value(json!({"roots": [{"uri": "file:///tmp"}]})).map_err(internal)
        })
    }
}

/// A host whose every callback panics: the asks, on call or on poll, and notifications.
pub struct Panicky;

impl ClientHandler for Panicky {
    fn elicit(
        &self,
        _p: ElicitRequestParams,
    ) -> BoxFuture<'static, Result<ElicitResult, ErrorObject>> {
        panic!("the host's elicit panics on purpose")
    }

    fn list_roots(&self) -> BoxFuture<'static, Result<ListRootsResult, ErrorObject>> {
        Box::pin(async { panic!("the host's list_roots panics on purpose") })
    }

    fn on_notification(
        &self,
        _n: mcp_driver::mcp_proto::schema::messages::ServerNotification,
        _subscription: Option<mcp_driver::mcp_proto::jsonrpc::RequestId>,
    ) {
        panic!("the host's notification callback panics on purpose")
    }
}

/// How the suite links client and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Bytes over an in-memory pipe, through the stream pump (as stdio or TCP would).
    Pipe,
    /// [`mcp_driver::connect_in_process`]: sessions linked with no bytes in between.
    InProcess,
    /// Whole messages over a pair of bounded channels ([`mcp_driver::messages`]), as a
    /// WebSocket would carry them.
    Messages,
}

/// A connected client and server.
pub struct Setup {
    /// The client.
    pub client: Client,
    /// The server's handler (signals).
    pub fixture: Fixture,
    /// The server connection's handle.
    pub server: mcp_driver::ServerHandle,
}

/// A service of `fixture`'s tools, announcing tool list changes.
pub fn fixture_service(fixture: &Fixture) -> Service {
    let caps = ServerCapabilities {
        tools: Some(ToolsCapability {
            list_changed: Some(true),
            ..Default::default()
        }),
        ..Default::default()
    };
    Service::new(
        ServerConfig::new(Implementation::new("suite", "1"), caps),
        fixture.clone(),
    )
}

/// Serves the fixture and connects a client with `era` and `capabilities`.
pub async fn setup<R: Runtime>(
    rt: R,
    link: Link,
    era: EraPreference,
    capabilities: ClientCapabilities,
    handler: Arc<dyn ClientHandler>,
) -> Setup {
    let fixture = Fixture::default();
    let service = fixture_service(&fixture);
    let mut cfg = ClientConfig::new(Implementation::new("suite-client", "1"));
    cfg.era = era;
    cfg.capabilities = capabilities;
    let (client, server) = link_up(rt, link, service, cfg, handler).await;
    Setup {
        client,
        fixture,
        server,
    }
}

/// Serves `service` and connects a client to it over `link`.
pub async fn link_up<R: Runtime>(
    rt: R,
    link: Link,
    service: Service,
    config: ClientConfig,
    handler: Arc<dyn ClientHandler>,
) -> (Client, mcp_driver::ServerHandle) {
    let (client, server) = match link {
        Link::Pipe => {
            let (cr, cw, sr, sw) = pipe::duplex();
            let (server, conn) = mcp_driver::serve(rt.clone(), service, sr, sw);
            rt.spawn(Box::pin(async move {
                let _ = conn.await;
            }));
            (
                mcp_driver::connect(rt, config, handler, cr, cw).await,
                server,
            )
        }
        Link::Messages => {
            let ((cs, cr), (ss, sr)) = (messages::channel(), messages::channel());
            let (server, conn) = mcp_driver::serve_messages(rt.clone(), service, sr, cs);
            rt.spawn(Box::pin(async move {
                let _ = conn.await;
            }));
            (
                mcp_driver::connect_messages(rt, config, handler, cr, ss).await,
                server,
            )
        }
        Link::InProcess => {
            let (c, s) = mcp_driver::connect_in_process(rt, service, config, handler)
                .await
                .unwrap_or_else(|e| panic!("connect failed: {e}"));
            (Ok(c), s)
        }
    };
    let client = client.unwrap_or_else(|e| panic!("connect failed: {e}"));
    (client, server)
}

async fn plain<R: Runtime>(rt: R, link: Link, era: EraPreference) -> Setup {
    setup(
        rt,
        link,
        era,
        ClientCapabilities::default(),
        Arc::new(NoHandler),
    )
    .await
}

fn expected_era(era: EraPreference) -> Era {
    if era == EraPreference::Legacy {
        Era::Legacy
    } else {
        Era::Modern
    }
}

/// A tool call round-trips in both eras.
pub async fn calls_round_trip_in_both_eras<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), link, era).await;
        assert_eq!(s.client.server().era, expected_era(era));
        let r = s
            .client
            .call_tool("echo", json!({"text": "hi"}))
            .await
            .unwrap();
        assert_eq!(r.content[0].as_text(), Some("hi"));
    }
}

/// Many calls in flight at once each get their own answer. They are made together and
/// every handler waits for all the others (the fixture's `gather` barrier): calls awaited one
/// after another, or a server running its handlers one at a time, never get past the first.
pub async fn concurrent_calls_all_complete<R: Runtime>(rt: R, link: Link) {
    let s = plain(rt.clone(), link, EraPreference::Auto).await;
    all_in_flight_together(&rt, &s.client, &s.fixture, 64).await;
}

/// Makes `n` `gather` calls at once, checks each got its own answer and that the server had
/// all `n` handlers in flight together.
pub(crate) async fn all_in_flight_together<R: Runtime>(
    rt: &R,
    client: &Client,
    fixture: &Fixture,
    n: usize,
) {
    let calls = (0..n).map(|i| {
        let c = client.clone();
        async move {
            c.call_tool("gather", json!({"n": n, "text": i.to_string()}))
                .await
        }
    });
    let what = format!("{n} calls made together never all reached the server's handlers");
    let out = within(rt, Duration::from_secs(60), &what, join_all(calls)).await;
    for (i, r) in out.into_iter().enumerate() {
        let r = r.unwrap_or_else(|e| panic!("call {i}: {e:?}"));
        assert_eq!(r.content[0].as_text(), Some(i.to_string().as_str()));
    }
    assert_eq!(fixture.gathering.peak(), n);
}

/// Progress notifications reach the per-call callback in order.
pub async fn progress_reaches_the_callback<R: Runtime>(rt: R, link: Link) {
    let s = plain(rt, link, EraPreference::Auto).await;
    let (r, seen) = call_recording_progress(&s.client, "progress").await;
    assert_eq!(r.content[0].as_text(), Some("done"));
    assert_eq!(seen, [1.0, 2.0, 3.0]);
}

/// Calls `tool`, recording the progress values its callback receives.
pub(crate) async fn call_recording_progress(
    client: &Client,
    tool: &str,
) -> (CallToolResult, Vec<f64>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let r = client
        .call_tool_with(
            tool,
            json!({}),
            Some(Box::new(move |p| {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(p.progress)
            })),
        )
        .await
        .unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
    (r, seen)
}

/// Dropping a call's future cancels it; the server drops the handler; the connection lives.
pub async fn dropping_a_call_cancels_it_on_the_server<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), link, era).await;
        drop_a_call_and_go_on(&s.client, &s.fixture).await;
    }
}

/// Starts `hang`, drops the call once its handler runs, waits for the server to drop the
/// handler, and checks the connection still answers.
pub(crate) async fn drop_a_call_and_go_on(client: &Client, fixture: &Fixture) {
    {
        let call = client.call_tool("hang", json!({}));
        let started = fixture.started.wait();
        // Poll the call until the handler has started, then drop it.
        futures_lite::future::or(async { call.await.map(|_| ()) }, async {
            started.await;
            Ok(())
        })
        .await
        .unwrap();
    }
    fixture.dropped.wait().await;
    let r = client
        .call_tool("echo", json!({"text": "after"}))
        .await
        .unwrap();
    assert_eq!(r.content[0].as_text(), Some("after"));
}

/// Peer errors arrive typed; a client that closes mid-call ends the call with `Closed`.
pub async fn errors_and_disconnects_reach_the_caller<R: Runtime>(rt: R, link: Link) {
    let s = plain(rt, link, EraPreference::Auto).await;
    let err = s.client.call_tool("nope", json!({})).await.unwrap_err();
    assert!(
        matches!(&err, CallError::Request(RequestError::Rpc(e)) if e.code == -32602),
        "{err:?}"
    );
    let call = s.client.call_tool("hang", json!({}));
    let closer = async {
        s.fixture.started.wait().await;
        s.client.close();
        std::future::pending::<Result<CallToolResult, CallError>>().await
    };
    let r = futures_lite::future::or(call, closer).await;
    assert!(
        matches!(r, Err(CallError::Request(RequestError::Closed))),
        "{r:?}"
    );
    let again = s.client.call_tool("echo", json!({})).await;
    assert!(
        matches!(again, Err(CallError::Request(RequestError::Closed))),
        "{again:?}"
    );
}

/// One handler asks the client the same way in both eras (legacy requests, MRTR rounds).
pub async fn the_same_handler_asks_in_both_eras<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let answers = Arc::new(Answers::default());
        let caps = ClientCapabilities {
            elicitation: Some(ElicitationCapability::default()),
            roots: Some(RootsCapability::default()),
            ..Default::default()
        };
        let s = setup(rt.clone(), link, era, caps, answers.clone()).await;
        let r = s.client.call_tool("ask", json!({})).await.unwrap();
        assert_eq!(r.content[0].as_text(), Some("a0+a1+1"), "{era:?}");
        // Each question reached the user once, although the 2026 handler replays.
        assert_eq!(answers.0.load(Ordering::SeqCst), 2);
    }
}

/// A forged `requestState` is refused with -32602.
pub async fn tampered_request_state_is_refused<R: Runtime>(rt: R, link: Link) {
    let caps = ClientCapabilities {
        elicitation: Some(ElicitationCapability::default()),
        ..Default::default()
    };
    let s = setup(rt, link, EraPreference::Modern, caps, Arc::new(NoHandler)).await;
    for forged in ["", "e30.AAAA", "not-even-close"] {
        let params =
            serde_json::from_value(json!({"name": "ask", "requestState": forged})).unwrap();
        let err = s
            .client
            .request(ClientRequest::CallTool(params))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, CallError::Request(RequestError::Rpc(e)) if e.code == -32602),
            "{err:?}"
        );
    }
}

/// Shutting the server down answers in-flight calls instead of leaving them hanging, in both
/// eras: the call gets the server's -32603 "shutting down" answer (in process: `Closed`),
/// the handler is dropped, and the connection then closes.
pub async fn server_shutdown_fails_pending_calls<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let s = plain(rt.clone(), link, era).await;
        let call = s.client.call_tool("hang", json!({}));
        let stopper = async {
            s.fixture.started.wait().await;
            s.server.shutdown();
            std::future::pending::<Result<CallToolResult, CallError>>().await
        };
        let r = futures_lite::future::or(call, stopper).await;
        // Over bytes the server's answer arrives before the end of the stream; linked in
        // process, the link goes down with the server first.
        let answered = match (&r, link) {
            (Err(CallError::Request(RequestError::Rpc(e))), Link::Pipe | Link::Messages) => {
                e.code == -32603 && e.message.contains("shutting down")
            }
            (Err(CallError::Request(RequestError::Closed)), Link::InProcess) => true,
            _ => false,
        };
        assert!(answered, "{link:?}, {era:?}: {r:?}");
        s.fixture.dropped.wait().await;
        s.client.closed().await;
        assert!(s.server.is_closed(), "{era:?}");
    }
}

/// When the client goes away mid-call, the call ends `Closed` and the server drops the
/// handler instead of running on.
pub async fn client_disconnect_drops_server_handlers<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), link, era).await;
        let call = s.client.call_tool("hang", json!({}));
        let closer = async {
            s.fixture.started.wait().await;
            s.client.close();
            std::future::pending::<Result<CallToolResult, CallError>>().await
        };
        let r = futures_lite::future::or(call, closer).await;
        assert!(
            matches!(r, Err(CallError::Request(RequestError::Closed))),
            "{era:?}: {r:?}"
        );
        s.fixture.dropped.wait().await;
    }
}

/// Capabilities that let the server ask the host (elicitation and roots).
pub(crate) fn asking_caps() -> ClientCapabilities {
    ClientCapabilities {
        elicitation: Some(ElicitationCapability::default()),
        roots: Some(RootsCapability::default()),
        ..Default::default()
    }
}

/// With a [`Panicky`] host on `era`: the panicking tool's call fails with -32603, the server's
/// ask of the host fails the call (a legacy server hears -32603 back and fails its tool
/// with it; a 2026-07-28 client fails the ask on its own side), and the client still works.
pub(crate) async fn panics_are_answered(client: &Client, era: EraPreference) {
    let err = client.call_tool("panic", json!({})).await.unwrap_err();
    assert!(
        matches!(&err, CallError::Request(RequestError::Rpc(e))
            if e.code == -32603 && e.message.contains("panics on purpose")),
        "{era:?}: {err:?}"
    );
    let err = client.call_tool("ask", json!({})).await.unwrap_err();
    let told = match &err {
        CallError::Request(RequestError::Rpc(e)) if era == EraPreference::Legacy => {
            e.code == -32603 && e.message.contains("panicked")
        }
        CallError::AskFailed(e) if era == EraPreference::Modern => {
            e.code == -32603 && e.message.contains("panicked")
        }
        _ => false,
    };
    assert!(told, "{era:?}: {err:?}");
    let r = client
        .call_tool("echo", json!({"text": "still here"}))
        .await;
    let r = r.unwrap_or_else(|e| panic!("{era:?}: {e:?}"));
    assert_eq!(r.content[0].as_text(), Some("still here"), "{era:?}");
}

/// A panic in user code answers the request it served with -32603, and the connection goes
/// on: a tool that panics, and a host whose callbacks panic while the server asks it.
pub async fn panicking_handlers_answer_errors_and_the_connection_lives_on<R: Runtime>(
    rt: R,
    link: Link,
) {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let s = setup(rt.clone(), link, era, asking_caps(), Arc::new(Panicky)).await;
        panics_are_answered(&s.client, era).await;
        // A notification the host's callback panics on is lost, nothing more.
        s.server.notify_tools_list_changed();
        panics_are_answered(&s.client, era).await;
        assert!(!s.server.is_closed(), "{era:?}");
    }
}

/// `Client::closed` completes once a close has run its course, in both eras.
pub async fn closing_is_awaitable<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Legacy, EraPreference::Modern] {
        let s = plain(rt.clone(), link, era).await;
        let r = s
            .client
            .call_tool("echo", json!({"text": "x"}))
            .await
            .unwrap();
        assert_eq!(r.content[0].as_text(), Some("x"));
        let mut closed = std::pin::pin!(s.client.closed());
        // Still open: the future waits.
        let early = futures_lite::future::poll_once(closed.as_mut()).await;
        assert!(early.is_none() && !s.client.is_closed(), "{era:?}");
        s.client.close();
        closed.await;
        assert!(s.client.is_closed(), "{era:?}");
        // Already over: ready at once.
        s.client.closed().await;
    }
}

/// However a connection future ends, even dropped unfinished, its session is closed: the
/// handlers it started are cancelled, and its callers get errors instead of waiting forever.
pub async fn a_dropped_connection_future_ends_its_session<R: Runtime>(rt: R) {
    let fixture = Fixture::default();
    let service = fixture_service(&fixture);
    let (cr, cw, sr, sw) = pipe::duplex();
    let (server, conn) = mcp_driver::serve(rt.clone(), service, sr, sw);
    let stop = Signal::default();
    let stopped = stop.clone();
    // The server's connection future runs until told to stop, then is dropped unfinished.
    rt.spawn(Box::pin(async move {
        let _ = futures_lite::future::or(conn, async {
            stopped.wait().await;
            Ok(())
        })
        .await;
    }));
    let mut cfg = ClientConfig::new(Implementation::new("suite-client", "1"));
    cfg.era = EraPreference::Legacy;
    let client = mcp_driver::connect(rt.clone(), cfg, Arc::new(NoHandler), cr, cw)
        .await
        .unwrap_or_else(|e| panic!("connect failed: {e}"));
    let call = client.call_tool("hang", json!({}));
    let stopper = async {
        fixture.started.wait().await;
        stop.set();
        std::future::pending::<Result<CallToolResult, CallError>>().await
    };
    let r = futures_lite::future::or(call, stopper).await;
    assert!(
        matches!(r, Err(CallError::Request(RequestError::Closed))),
        "{r:?}"
    );
    // The server's side is over too: its session is closed and the handler was dropped
    // (a watchdog turns a regression into a failure rather than a hang).
    let deadline = rt.now() + std::time::Duration::from_secs(30);
    let dropped = futures_lite::future::or(
        async {
            fixture.dropped.wait().await;
            true
        },
        async {
            rt.sleep_until(deadline).await;
            false
        },
    )
    .await;
    assert!(
        dropped,
        "the handler still runs after its connection was dropped"
    );
    assert!(server.is_closed());
}

/// A 2026-07-28 listen stream: acknowledged first, then the asked-for notifications, and it
/// ends when the server closes it.
pub async fn listen_streams_deliver_and_end<R: Runtime>(rt: R, link: Link) {
    let s = plain(rt, link, EraPreference::Modern).await;
    let filter = SubscriptionFilter {
        tools_list_changed: Some(true),
        ..Default::default()
    };
    let mut sub = s.client.listen(filter).unwrap();
    let ack = sub.next().await.unwrap();
    assert_eq!(ack.method(), "notifications/subscriptions/acknowledged");
    s.server.notify_tools_list_changed();
    let n = sub.next().await.unwrap();
    assert_eq!(n.method(), "notifications/tools/list_changed");
    let id = sub.id().clone();
    s.server
        .with_session(|session| session.close_subscription(&id))
        .unwrap();
    assert!(sub.next().await.is_none());
    assert_eq!(sub.dropped(), 0);
}

/// A handler awaiting `cx.cancelled()` runs its cancellation branch before being dropped.
pub async fn handlers_see_their_own_cancellation<R: Runtime>(rt: R, link: Link) {
    for era in [EraPreference::Auto, EraPreference::Legacy] {
        let s = plain(rt.clone(), link, era).await;
        {
            let call = s.client.call_tool("watchful", json!({}));
            let started = s.fixture.started.wait();
            futures_lite::future::or(async { call.await.map(|_| ()) }, async {
                started.await;
                Ok(())
            })
            .await
            .unwrap();
        }
        s.fixture.saw_cancel.wait().await;
    }
}

/// A call whose answer never comes ends with `Timeout` at its deadline (the deadline reaches
/// the connection's timer even when the caller wrote the request itself).
pub async fn request_timeouts_fire<R: Runtime>(rt: R, link: Link) {
    let s = plain(rt, link, EraPreference::Auto).await;
    let params = serde_json::from_value(json!({"name": "hang"})).unwrap();
    let options = RequestOptions::default()
        .with_timeout(Some(Some(Timeout::fixed(
            std::time::Duration::from_millis(150),
        ))))
        .with_progress(false);
    let r = s
        .client
        .request_with(ClientRequest::CallTool(params), options, None)
        .await;
    assert!(
        matches!(r, Err(CallError::Request(RequestError::Timeout))),
        "{r:?}"
    );
    // The server was told: its handler is dropped.
    s.fixture.dropped.wait().await;
}
