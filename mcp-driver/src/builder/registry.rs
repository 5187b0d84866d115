//! What a server offers: tools, prompts, resources, templates and completers, in
//! registration order, with their type-erased handlers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use mcp_proto::jsonrpc::ErrorObject;
use mcp_proto::schema::content::Resource;
use mcp_proto::schema::prompts::{GetPromptResult, Prompt};
use mcp_proto::schema::resources::{ReadResourceResult, ResourceTemplate};
use mcp_proto::schema::tools::{CallToolResult, Tool};

use super::handler::{HandlerFn, RequestParts};
use super::output::{IntoPromptResult, IntoResourceContents, IntoToolResult, RpcError, ToolError};
use super::schema;
use super::uri_template::UriTemplate;
use crate::runtime::BoxFuture;
use crate::tasks::{TaskOptions, TaskSupport};

/// A tool's answer: its result, or a JSON-RPC error (see [`ToolError`]).
type ToolCall = Box<
    dyn Fn(RequestParts) -> BoxFuture<'static, Result<CallToolResult, ErrorObject>> + Send + Sync,
>;
type PromptGet = Box<
    dyn Fn(RequestParts) -> BoxFuture<'static, Result<GetPromptResult, RpcError>> + Send + Sync,
>;
pub(crate) type ResourceRead = Arc<
    dyn Fn(RequestParts) -> BoxFuture<'static, Result<ReadResourceResult, RpcError>> + Send + Sync,
>;
pub(crate) type Completer = Arc<dyn Fn(String) -> BoxFuture<'static, Vec<String>> + Send + Sync>;

/// A registered tool.
pub(crate) struct ToolEntry {
    pub(crate) def: Tool,
    pub(crate) call: ToolCall,
    /// Arguments mirrored into `Mcp-Param-*` headers (`x-mcp-header` in the input schema).
    pub(crate) header_params: Arc<[mcp_proto::http::HeaderParam]>,
    /// How calls run as tasks; `None`: never.
    pub(crate) task: Option<TaskOptions>,
}

/// A registered prompt.
pub(crate) struct PromptEntry {
    pub(crate) def: Prompt,
    /// Arguments typed other than string, whose text is parsed as JSON.
    pub(crate) parse_json: BTreeSet<String>,
    pub(crate) get: PromptGet,
}

/// A registered fixed resource.
pub(crate) struct ResourceEntry {
    pub(crate) def: Resource,
    pub(crate) read: ResourceRead,
}

/// A registered resource template.
pub(crate) struct TemplateEntry {
    pub(crate) def: ResourceTemplate,
    pub(crate) template: UriTemplate,
    pub(crate) read: ResourceRead,
}

/// Entries by key, in registration order. Re-registering a key replaces the entry in place.
pub(crate) struct Table<E> {
    order: Vec<String>,
    entries: HashMap<String, Arc<E>>,
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Table {
            order: Vec::new(),
            entries: HashMap::new(),
        }
    }
}

impl<E> Table<E> {
    pub(crate) fn insert(&mut self, key: String, entry: E) {
        if self.entries.insert(key.clone(), Arc::new(entry)).is_none() {
            self.order.push(key);
        }
    }

    pub(crate) fn remove(&mut self, key: &str) -> bool {
        let found = self.entries.remove(key).is_some();
        if found {
            self.order.retain(|k| k != key);
        }
        found
    }

    pub(crate) fn get(&self, key: &str) -> Option<Arc<E>> {
        self.entries.get(key).cloned()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Arc<E>> {
        self.order.iter().filter_map(|k| self.entries.get(k))
    }

    /// One page from `cursor` (one this table issued for `kind`), at most `size` entries
    /// (`None`: all), mapped by `f`; with the cursor of the next page, if any.
    pub(crate) fn page<T>(
        &self,
        kind: &str,
        cursor: Option<&str>,
        size: Option<usize>,
        f: impl Fn(&E) -> T,
    ) -> Result<(Vec<T>, Option<String>), ErrorObject> {
        let len = self.order.len();
        let start = match cursor {
            None => 0,
            Some(c) => decode_cursor(kind, c)
                .ok_or_else(|| ErrorObject::invalid_params(format!("invalid cursor: {c:?}")))?
                // The list may have shrunk since the cursor was issued.
                .min(len),
        };
        let end = size.map_or(len, |n| start.saturating_add(n).min(len));
        let items = self.order[start..end]
            .iter()
            .filter_map(|k| self.entries.get(k))
            .map(|e| f(e))
            .collect();
        Ok((items, (end < len).then(|| encode_cursor(kind, end))))
    }
}

fn encode_cursor(kind: &str, offset: usize) -> String {
    BASE64.encode(format!("{kind}:{offset}"))
}

fn decode_cursor(kind: &str, cursor: &str) -> Option<usize> {
    let bytes = BASE64.decode(cursor).ok()?;
    let text = std::str::from_utf8(&bytes).ok()?;
    let (k, offset) = text.split_once(':')?;
    if k != kind {
        return None;
    }
    offset.parse().ok()
}

/// Which argument a completer completes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum CompletionKey {
    /// A prompt's argument: (prompt name, argument name).
    Prompt(String, String),
    /// A template's variable: (URI template, variable name).
    Template(String, String),
}

/// Everything a server offers.
#[derive(Default)]
pub(crate) struct Registry {
    pub(crate) tools: Table<ToolEntry>,
    pub(crate) prompts: Table<PromptEntry>,
    pub(crate) resources: Table<ResourceEntry>,
    pub(crate) templates: Table<TemplateEntry>,
    pub(crate) completers: HashMap<CompletionKey, Completer>,
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<'static, T> {
    Box::pin(std::future::ready(value))
}

impl Registry {
    /// Adds or replaces a tool. A null `inputSchema` and an absent `outputSchema` are derived
    /// from the handler; an `execution.taskSupport` other than forbidden makes it a task tool
    /// whose task starts before the handler runs.
    pub(crate) fn add_tool<X, O, H>(&mut self, def: Tool, handler: H)
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        let support = def
            .execution
            .as_ref()
            .and_then(|e| e.task_support)
            .unwrap_or_default();
        let task = (support != TaskSupport::Forbidden).then(|| TaskOptions::new(support));
        self.add_task_tool(def, task, handler);
    }

    /// Adds or replaces a tool that may run as a task (`task` sets its
    /// `execution.taskSupport`).
    pub(crate) fn add_task_tool<X, O, H>(
        &mut self,
        mut def: Tool,
        task: Option<TaskOptions>,
        handler: H,
    ) where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        if let Some(t) = task {
            def.execution
                .get_or_insert_with(Default::default)
                .task_support = Some(t.support);
        }
        if def.input_schema.is_null() {
            def.input_schema = schema::input_schema(H::arguments());
        }
        if def.output_schema.is_none() {
            def.output_schema = O::output_schema();
        }
        let call: ToolCall = Box::new(move |parts| {
            let era = parts.cx.era();
            match handler.call(&parts) {
                Ok(fut) => Box::pin(async move {
                    match fut.await {
                        Ok(out) => Ok(out.into_tool_result()),
                        Err(e) => e.into_answer(era),
                    }
                }),
                // Bad arguments are the model's to fix: a result it can read (SEP-1303).
                Err(rejection) => ready(Ok(CallToolResult::error_text(rejection.message()))),
            }
        });
        // A schema with broken annotations mirrors nothing; clients drop such tools anyway.
        let header_params = mcp_proto::http::header_params(&def.input_schema)
            .unwrap_or_default()
            .into();
        self.tools.insert(
            def.name.clone(),
            ToolEntry {
                def,
                call,
                header_params,
                task,
            },
        );
    }

    /// Adds or replaces a prompt. Absent `arguments` are derived from the handler's `Args`.
    pub(crate) fn add_prompt<X, P, H>(&mut self, mut def: Prompt, handler: H)
    where
        H: HandlerFn<X, Output = Result<P, RpcError>>,
        P: IntoPromptResult,
    {
        let mut parse_json = BTreeSet::new();
        if let Some(info) = H::arguments() {
            let derived = schema::prompt_arguments(&info);
            if def.arguments.is_none() && !derived.list.is_empty() {
                def.arguments = Some(derived.list);
            }
            parse_json = derived.parse_json;
        }
        let description = def.description.clone();
        let get: PromptGet = Box::new(move |parts| match handler.call(&parts) {
            Ok(fut) => {
                let description = description.clone();
                Box::pin(async move {
                    let mut result = fut.await?.into_prompt_result();
                    if result.description.is_none() {
                        result.description = description;
                    }
                    Ok(result)
                })
            }
            Err(rejection) => ready(Err(RpcError::new(rejection.into_error_object()))),
        });
        self.prompts.insert(
            def.name.clone(),
            PromptEntry {
                def,
                parse_json,
                get,
            },
        );
    }

    /// Adds or replaces a fixed resource.
    pub(crate) fn add_resource<X, R, H>(&mut self, def: Resource, handler: H)
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        let read = resource_read(handler, def.mime_type.clone());
        self.resources
            .insert(def.uri.clone(), ResourceEntry { def, read });
    }

    /// Adds or replaces a resource template.
    pub(crate) fn add_template<X, R, H>(&mut self, def: ResourceTemplate, handler: H)
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        let read = resource_read(handler, def.mime_type.clone());
        let template = UriTemplate::parse(&def.uri_template);
        self.templates.insert(
            def.uri_template.clone(),
            TemplateEntry {
                def,
                template,
                read,
            },
        );
    }

    /// Adds or replaces a completer.
    pub(crate) fn add_completer<F, Fut>(&mut self, key: CompletionKey, complete: F)
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let completer: Completer = Arc::new(move |value| Box::pin(complete(value)));
        self.completers.insert(key, completer);
    }

    /// The reader for `uri`, with the template variables it matched: a fixed resource first,
    /// then the templates in registration order.
    pub(crate) fn find_resource(
        &self,
        uri: &str,
    ) -> Option<(ResourceRead, BTreeMap<String, String>)> {
        if let Some(r) = self.resources.get(uri) {
            return Some((r.read.clone(), Default::default()));
        }
        self.templates
            .iter()
            .find_map(|t| t.template.matches(uri).map(|vars| (t.read.clone(), vars)))
    }
}

fn resource_read<X, R, H>(handler: H, mime_type: Option<String>) -> ResourceRead
where
    H: HandlerFn<X, Output = Result<R, RpcError>>,
    R: IntoResourceContents,
{
    Arc::new(move |parts| {
        let uri = parts.uri().unwrap_or_default().to_owned();
        match handler.call(&parts) {
            Ok(fut) => {
                let mime_type = mime_type.clone();
                Box::pin(async move { Ok(fut.await?.into_read_result(&uri, mime_type.as_deref())) })
            }
            Err(rejection) => ready(Err(RpcError::new(rejection.into_error_object()))),
        }
    })
}

/// A handler serving fixed text.
pub(crate) fn fixed_text(
    text: String,
) -> impl Fn() -> std::future::Ready<Result<String, RpcError>> + Send + Sync + 'static {
    move || std::future::ready(Ok(text.clone()))
}

/// A handler serving fixed bytes.
pub(crate) fn fixed_bytes(
    bytes: bytes::Bytes,
) -> impl Fn() -> std::future::Ready<Result<bytes::Bytes, RpcError>> + Send + Sync + 'static {
    move || std::future::ready(Ok(bytes.clone()))
}
