//! The [`Handler`] behind a built server: answers lists, calls, reads, prompts and
//! completions from the registry, and keeps the open connections for change notifications.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::completion::{CompleteRequestParams, CompleteResult, CompletionReference};
use mcp_proto::schema::errors::resource_not_found;
use mcp_proto::schema::messages::ClientRequest;
use mcp_proto::schema::prompts::{GetPromptRequestParams, ListPromptsResult};
use mcp_proto::schema::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
};
use mcp_proto::schema::tools::{CallToolRequestParams, ListToolsResult};
use mcp_proto::schema::{CacheScope, Era};
use serde_json::{Map, Value};

use super::handler::{Input, RequestParts, StateMap};
use super::registry::{CompletionKey, Registry};
use super::schema;
use crate::runtime::BoxFuture;
use crate::server::{Handler, HandlerResult, RequestCx, ServerHandle, WeakServerHandle};

/// Most completion values one answer may carry.
const MAX_COMPLETIONS: usize = 100;

/// A built server's shared state: what it offers, its application state, its connections.
pub(crate) struct Inner {
    pub(crate) registry: RwLock<Registry>,
    pub(crate) state: Arc<StateMap>,
    pub(crate) page_size: Option<usize>,
    pub(crate) connections: Mutex<Vec<WeakServerHandle>>,
}

impl Inner {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn connections(&self) -> MutexGuard<'_, Vec<WeakServerHandle>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The open connections; forgets the ones that ended.
    pub(crate) fn live_connections(&self) -> Vec<ServerHandle> {
        let mut live = Vec::new();
        self.connections().retain(|w| match w.upgrade() {
            Some(h) => {
                live.push(h);
                true
            }
            None => false,
        });
        live
    }

    fn parts(&self, cx: RequestCx, input: Input) -> RequestParts {
        RequestParts {
            cx,
            state: self.state.clone(),
            input,
        }
    }

    async fn serve(self: Arc<Self>, request: ClientRequest, cx: RequestCx) -> HandlerResult {
        let era = cx.era();
        let size = self.page_size;
        match request {
            ClientRequest::ListTools(p) => {
                let (tools, next_cursor) =
                    self.read()
                        .tools
                        .page("tools", p.cursor.as_deref(), size, |e| tool_def(era, e))?;
                let mut r = ListToolsResult {
                    tools,
                    next_cursor,
                    ..Default::default()
                };
                cache_hints(era, &mut r.ttl_ms, &mut r.cache_scope);
                Ok(r.into())
            }
            ClientRequest::CallTool(p) => self.call_tool(p, cx).await,
            ClientRequest::ListPrompts(p) => {
                let (prompts, next_cursor) =
                    self.read()
                        .prompts
                        .page("prompts", p.cursor.as_deref(), size, |e| e.def.clone())?;
                let mut r = ListPromptsResult {
                    prompts,
                    next_cursor,
                    ..Default::default()
                };
                cache_hints(era, &mut r.ttl_ms, &mut r.cache_scope);
                Ok(r.into())
            }
            ClientRequest::GetPrompt(p) => self.get_prompt(p, cx).await,
            ClientRequest::ListResources(p) => {
                let (resources, next_cursor) =
                    self.read()
                        .resources
                        .page("resources", p.cursor.as_deref(), size, |e| e.def.clone())?;
                let mut r = ListResourcesResult {
                    resources,
                    next_cursor,
                    ..Default::default()
                };
                cache_hints(era, &mut r.ttl_ms, &mut r.cache_scope);
                Ok(r.into())
            }
            ClientRequest::ListResourceTemplates(p) => {
                let (resource_templates, next_cursor) =
                    self.read()
                        .templates
                        .page("templates", p.cursor.as_deref(), size, |e| e.def.clone())?;
                let mut r = ListResourceTemplatesResult {
                    resource_templates,
                    next_cursor,
                    ..Default::default()
                };
                cache_hints(era, &mut r.ttl_ms, &mut r.cache_scope);
                Ok(r.into())
            }
            ClientRequest::ReadResource(p) => self.read_resource(p, cx).await,
            ClientRequest::Complete(p) => self.complete(p).await,
            other => Err(ErrorObject::method_not_found(other.method())),
        }
    }

    async fn call_tool(&self, p: CallToolRequestParams, cx: RequestCx) -> HandlerResult {
        let entry = self.read().tools.get(&p.name);
        let entry = entry.ok_or_else(|| unknown("tool", &p.name))?;
        let args = Value::Object(p.arguments.unwrap_or_default());
        let parts = self.parts(cx, Input::Arguments(args));
        Ok((entry.call)(parts).await?.into())
    }

    async fn get_prompt(&self, p: GetPromptRequestParams, cx: RequestCx) -> HandlerResult {
        let era = cx.era();
        let entry = self.read().prompts.get(&p.name);
        let entry = entry.ok_or_else(|| unknown("prompt", &p.name))?;
        let args: Map<String, Value> = p
            .arguments
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let parse = entry.parse_json.contains(&k);
                (k, schema::prompt_value(v, parse))
            })
            .collect();
        let parts = self.parts(cx, Input::Arguments(Value::Object(args)));
        match (entry.get)(parts).await {
            Ok(r) => Ok(r.into()),
            Err(e) => Err(e.into_error_object(era)),
        }
    }

    async fn read_resource(&self, p: ReadResourceRequestParams, cx: RequestCx) -> HandlerResult {
        let era = cx.era();
        let found = self.read().find_resource(&p.uri);
        let Some((read, vars)) = found else {
            return Err(resource_not_found(era, p.uri));
        };
        let parts = self.parts(cx, Input::Resource { uri: p.uri, vars });
        match read(parts).await {
            Ok(mut r) => {
                cache_hints(era, &mut r.ttl_ms, &mut r.cache_scope);
                Ok(r.into())
            }
            Err(e) => Err(e.into_error_object(era)),
        }
    }

    async fn complete(&self, p: CompleteRequestParams) -> HandlerResult {
        let completer = {
            let reg = self.read();
            let key = match p.reference {
                CompletionReference::Prompt(r) => {
                    if reg.prompts.get(&r.name).is_none() {
                        return Err(unknown("prompt", &r.name));
                    }
                    CompletionKey::Prompt(r.name, p.argument.name)
                }
                CompletionReference::Resource(r) => {
                    if reg.templates.get(&r.uri).is_none() {
                        return Err(unknown("resource template", &r.uri));
                    }
                    CompletionKey::Template(r.uri, p.argument.name)
                }
            };
            reg.completers.get(&key).cloned()
        };
        let mut values = match completer {
            Some(complete) => complete(p.argument.value).await,
            None => Vec::new(),
        };
        let mut result = CompleteResult::default();
        if values.len() > MAX_COMPLETIONS {
            result.completion.total = Some(values.len() as u64);
            result.completion.has_more = Some(true);
            values.truncate(MAX_COMPLETIONS);
        }
        result.completion.values = values;
        Ok(result.into())
    }
}

/// A tool as `era` describes it: 2026-07-28 has no `execution.taskSupport` (the server
/// decides which calls become tasks).
fn tool_def(era: Era, entry: &super::registry::ToolEntry) -> mcp_proto::schema::tools::Tool {
    let mut def = entry.def.clone();
    if era == Era::Modern {
        if let Some(e) = def.execution.as_mut() {
            e.task_support = None;
            if e.extra.is_empty() {
                def.execution = None;
            }
        }
    }
    def
}

fn unknown(kind: &str, name: &str) -> ErrorObject {
    ErrorObject::invalid_params(format!("unknown {kind}: {name}"))
}

/// 2026-07-28 results of lists and reads must say how long they may be cached: the lists
/// can change at run time and reads are the application's, so not at all.
fn cache_hints(era: Era, ttl_ms: &mut Option<u64>, scope: &mut Option<CacheScope>) {
    if era == Era::Modern {
        ttl_ms.get_or_insert(0);
        scope.get_or_insert(CacheScope::Private);
    }
}

/// The driver-facing handler of a built server.
pub(crate) struct Dispatch(pub(crate) Arc<Inner>);

impl Handler for Dispatch {
    fn handle(&self, request: ClientRequest, cx: RequestCx) -> BoxFuture<'static, HandlerResult> {
        Box::pin(self.0.clone().serve(request, cx))
    }

    fn header_params(&self, tool: &str) -> Option<Arc<[mcp_proto::http::HeaderParam]>> {
        let entry = self.0.read().tools.get(tool)?;
        (!entry.header_params.is_empty()).then(|| entry.header_params.clone())
    }

    fn task_options(&self, request: &ClientRequest) -> Option<crate::tasks::TaskOptions> {
        let ClientRequest::CallTool(p) = request else {
            return None;
        };
        self.0.read().tools.get(&p.name)?.task
    }

    fn on_connection(&self, handle: ServerHandle) {
        let mut connections = self.0.connections();
        connections.retain(|w| w.upgrade().is_some());
        connections.push(handle.downgrade());
    }
}
