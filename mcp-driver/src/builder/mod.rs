//! The typed server builder: register tools, prompts and resources as async closures that
//! take extractors, and get a [`Service`] whose capabilities follow from what was registered.
//!
//! Start at [`Server::builder`]. Handlers and extractors are described in [`HandlerFn`];
//! return values in [`IntoToolResult`], [`IntoPromptResult`] and [`IntoResourceContents`].
//! [`ServerBuilder::build_with_control`] also returns a [`ServerControl`] that changes what
//! the server offers while it runs and tells every connected client.

mod control;
#[cfg(feature = "schemars")]
mod derived;
mod dispatch;
mod handler;
mod output;
mod registry;
mod schema;
mod uri_template;

use std::any::{Any, TypeId};
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};

use mcp_proto::schema::content::Resource;
use mcp_proto::schema::lifecycle::{
    PromptsCapability, ResourcesCapability, ServerCapabilities, ToolsCapability,
};
use mcp_proto::schema::prompts::Prompt;
use mcp_proto::schema::resources::ResourceTemplate;
use mcp_proto::schema::tools::Tool;
use mcp_proto::schema::Implementation;
use mcp_proto::session::ServerConfig;
use serde_json::Value;

pub use control::ServerControl;
pub use handler::{Args, FromRequest, HandlerFn, Rejection, RequestParts, State, Uri, UriVars};
pub use output::{
    IntoPromptResult, IntoResourceContents, IntoToolResult, Json, RpcError, ToolError,
};
pub use schema::ArgumentsInfo;

use dispatch::{Dispatch, Inner};
use handler::StateMap;
use registry::{CompletionKey, Registry};

use crate::server::Service;
use crate::tasks::{TaskOptions, TaskSupport};
use mcp_proto::tasks::TaskStore;

/// Entry point of the typed server builder.
#[derive(Debug)]
#[non_exhaustive]
pub struct Server;

impl Server {
    /// Starts a server named `name` at `version` (reported to clients as its
    /// implementation info).
    ///
    /// ```
    /// use mcp_driver::{Args, Server};
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    ///
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Add { a: i64, b: i64 }
    ///
    /// let service = Server::builder("calc", env!("CARGO_PKG_VERSION"))
    ///     .tool("add", "Add two integers", |Args(Add { a, b }): Args<Add>| async move { Ok(a + b) })
    ///     .build();
    /// # assert!(service.config.capabilities.tools.is_some());
    /// // mcp_tokio::serve_stdio(service).await?;
    /// ```
    pub fn builder(name: impl Into<String>, version: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            info: Implementation::new(name, version),
            instructions: None,
            page_size: None,
            state: StateMap::new(),
            registry: Registry::default(),
            configure: Vec::new(),
            task_store: None,
        }
    }
}

type Configure = Box<dyn FnOnce(&mut ServerConfig) + Send>;

/// Collects what a server offers; [`build`](Self::build) turns it into a [`Service`].
///
/// Registering a name (a tool's, a prompt's) or a URI again replaces the earlier entry in
/// place. Lists are answered in registration order.
pub struct ServerBuilder {
    info: Implementation,
    instructions: Option<String>,
    page_size: Option<usize>,
    state: StateMap,
    registry: Registry,
    configure: Vec<Configure>,
    task_store: Option<Box<dyn TaskStore>>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("info", &self.info)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

impl ServerBuilder {
    /// A human-readable name for the server.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.info.title = Some(title.into());
        self
    }

    /// Guidance on using the server, e.g. for the client's system prompt.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Answers every list (tools, prompts, resources, templates) in pages of at most `n`
    /// entries, with opaque cursors; a cursor the server did not issue gets -32602. `0`
    /// turns paging off (the default).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = (n > 0).then_some(n);
        self
    }

    /// Applies `f` to this builder: a group of registrations kept in a function, such as
    /// the `<name>_tool` functions and `tools()` methods the `#[tool]` attribute generates
    /// (`.register(add_tool).register(calc.tools())`).
    pub fn register(self, f: impl FnOnce(Self) -> Self) -> Self {
        f(self)
    }

    /// Shared application state, handed to handlers by type through [`State<S>`] (one value
    /// per type; a second one of the same type replaces the first).
    pub fn state<S: Clone + Send + Sync + 'static>(mut self, value: S) -> Self {
        let value: Arc<dyn Any + Send + Sync> = Arc::new(value);
        self.state.insert(TypeId::of::<S>(), value);
        self
    }

    /// Edits the session configuration once it is derived, at [`build`](Self::build) time
    /// (limits, versions, capabilities ...).
    pub fn config(mut self, f: impl FnOnce(&mut ServerConfig) + Send + 'static) -> Self {
        self.configure.push(Box::new(f));
        self
    }

    /// Registers a tool. `handler` is an async closure taking up to three extractors (see
    /// [`HandlerFn`]) and returning `Result<impl IntoToolResult, ToolError>`. The
    /// `inputSchema` comes from the handler's [`Args<T>`] (an empty object schema without
    /// one), the `outputSchema` from a [`Json<T>`] output.
    pub fn tool<X, O, H>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: H,
    ) -> Self
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        self.tool_with(Tool::new(name, description, Value::Null), handler)
    }

    /// Registers a tool described in full (title, annotations, icons ...). A null
    /// `input_schema` and an absent `output_schema` are derived as in [`tool`](Self::tool).
    pub fn tool_with<X, O, H>(mut self, tool: Tool, handler: H) -> Self
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        self.registry.add_tool(tool, handler);
        self
    }

    /// Registers a tool whose calls may run as tasks (see [`crate::tasks`]): the handler is
    /// written like any tool's; when a call runs as a task, the client gets the task at once
    /// and the handler's result, error, progress and asks become the task's. `support` is
    /// the tool's `execution.taskSupport` for legacy clients; 2026-07-28 clients that allow
    /// tasks always get one.
    ///
    /// ```
    /// use mcp_driver::{RequestCx, Server, TaskSupport};
    ///
    /// let service = Server::builder("jobs", "1.0.0")
    ///     .task_tool("crunch", "A long computation", TaskSupport::Optional, |cx: RequestCx| async move {
    ///         cx.progress(50.0, Some(100.0), None)?;
    ///         Ok("42")
    ///     })
    ///     .build();
    /// # assert!(service.config.capabilities.tasks.is_some());
    /// ```
    pub fn task_tool<X, O, H>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        support: TaskSupport,
        handler: H,
    ) -> Self
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        let tool = Tool::new(name, description, Value::Null);
        self.task_tool_with(tool, TaskOptions::new(support), handler)
    }

    /// Registers a task tool described in full, with its [`TaskOptions`] (when the task
    /// starts, its TTL, its polling interval).
    pub fn task_tool_with<X, O, H>(mut self, tool: Tool, options: TaskOptions, handler: H) -> Self
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        let task = (options.support != TaskSupport::Forbidden).then_some(options);
        self.registry.add_task_tool(tool, task, handler);
        self
    }

    /// Keeps the service's tasks in `store` instead of the default in-memory one (see
    /// [`Service::with_task_store`]).
    pub fn task_store(mut self, store: impl TaskStore + 'static) -> Self {
        self.task_store = Some(Box::new(store));
        self
    }

    /// Registers a prompt. `handler` takes up to three extractors and returns
    /// `Result<impl IntoPromptResult, RpcError>`; the prompt's `arguments` come from the
    /// properties of its [`Args<T>`] (their doc comments become the descriptions, and the
    /// fields that are not `Option` are required).
    pub fn prompt<X, P, H>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: H,
    ) -> Self
    where
        H: HandlerFn<X, Output = Result<P, RpcError>>,
        P: IntoPromptResult,
    {
        self.prompt_with(Prompt::new(name, description), handler)
    }

    /// Registers a prompt described in full. Absent `arguments` are derived as in
    /// [`prompt`](Self::prompt).
    pub fn prompt_with<X, P, H>(mut self, prompt: Prompt, handler: H) -> Self
    where
        H: HandlerFn<X, Output = Result<P, RpcError>>,
        P: IntoPromptResult,
    {
        self.registry.add_prompt(prompt, handler);
        self
    }

    /// Registers a resource at a fixed URI. `handler` takes up to three extractors and
    /// returns `Result<impl IntoResourceContents, RpcError>`: a `String` is sent as text, a
    /// `Vec<u8>` as a base64 blob, both with `mime_type`.
    pub fn resource<X, R, H>(
        self,
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        handler: H,
    ) -> Self
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.resource_with(resource_def(uri, name, mime_type), handler)
    }

    /// Registers a resource described in full (description, size, annotations ...).
    pub fn resource_with<X, R, H>(mut self, resource: Resource, handler: H) -> Self
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.registry.add_resource(resource, handler);
        self
    }

    /// Registers a resource whose contents are fixed text (`text/plain`).
    pub fn text_resource(
        self,
        uri: impl Into<String>,
        name: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        let handler = registry::fixed_text(text.into());
        self.resource(uri, name, "text/plain", handler)
    }

    /// Registers a resource whose contents are fixed bytes, sent as a base64 blob.
    pub fn blob_resource(
        self,
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        bytes: impl Into<bytes::Bytes>,
    ) -> Self {
        let handler = registry::fixed_bytes(bytes.into());
        self.resource(uri, name, mime_type, handler)
    }

    /// Registers a family of resources named by an RFC 6570 URI template such as
    /// `file:///{path}`. A read whose URI matches (and is not a fixed resource) goes to
    /// `handler`, which gets the variables through [`UriVars`] (or deserialized, through
    /// [`Args<T>`]) and the URI through [`Uri`]. Level-1 `{var}` values are non-empty,
    /// contain no `/`, `?` or `#`, and are percent-decoded; `{+var}` may span `/`.
    pub fn resource_template<X, R, H>(
        self,
        uri_template: impl Into<String>,
        name: impl Into<String>,
        handler: H,
    ) -> Self
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.resource_template_with(ResourceTemplate::new(uri_template, name), handler)
    }

    /// Registers a resource template described in full (MIME type, description ...).
    pub fn resource_template_with<X, R, H>(mut self, template: ResourceTemplate, handler: H) -> Self
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.registry.add_template(template, handler);
        self
    }

    /// Completes argument `argument` of prompt `prompt`: `complete` gets what the user has
    /// typed and returns suggestions. At most 100 are sent; when there are more, the answer
    /// says how many (`total`) and that there are more (`hasMore`).
    pub fn complete_prompt_argument<F, Fut>(
        mut self,
        prompt: impl Into<String>,
        argument: impl Into<String>,
        complete: F,
    ) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let key = CompletionKey::Prompt(prompt.into(), argument.into());
        self.registry.add_completer(key, complete);
        self
    }

    /// Completes variable `variable` of the resource template `uri_template` (as
    /// registered), like [`complete_prompt_argument`](Self::complete_prompt_argument).
    pub fn complete_resource_variable<F, Fut>(
        mut self,
        uri_template: impl Into<String>,
        variable: impl Into<String>,
        complete: F,
    ) -> Self
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let key = CompletionKey::Template(uri_template.into(), variable.into());
        self.registry.add_completer(key, complete);
        self
    }

    /// The service, with capabilities for what was registered (`logging` always;
    /// `resources.subscribe` with resources, the session tracking subscriptions). What it
    /// offers is fixed and no update can be reported: see
    /// [`build_with_control`](Self::build_with_control) for both.
    pub fn build(self) -> Service {
        self.finish(false).0
    }

    /// The service and a [`ServerControl`] to add and remove tools, prompts and resources
    /// while it runs and to report resource updates. The service declares `tools`, `prompts`
    /// and `resources` with `listChanged: true` (even if none were registered yet: they may
    /// come later) and `resources.subscribe: true`; report changed resources with
    /// [`ServerControl::resource_updated`].
    pub fn build_with_control(self) -> (Service, ServerControl) {
        let (service, inner) = self.finish(true);
        (service, ServerControl::new(inner))
    }

    fn finish(self, dynamic: bool) -> (Service, Arc<Inner>) {
        let reg = &self.registry;
        let changes = dynamic.then_some(true);
        let capabilities = ServerCapabilities {
            logging: Some(Default::default()),
            completions: (!reg.completers.is_empty()).then(Default::default),
            tools: (dynamic || !reg.tools.is_empty()).then(|| ToolsCapability {
                list_changed: changes,
                ..Default::default()
            }),
            prompts: (dynamic || !reg.prompts.is_empty()).then(|| PromptsCapability {
                list_changed: changes,
                ..Default::default()
            }),
            resources: (dynamic || !reg.resources.is_empty() || !reg.templates.is_empty()).then(
                || ResourcesCapability {
                    subscribe: Some(true),
                    list_changed: changes,
                    ..Default::default()
                },
            ),
            ..Default::default()
        };
        let mut capabilities = capabilities;
        // Declared for the task tools registered here (a task tool added later through
        // the control works only if one was registered at build time).
        if reg.tools.iter().any(|t| t.task.is_some()) {
            tasks_capabilities(&mut capabilities);
        }
        let mut config = ServerConfig::new(self.info, capabilities);
        config.instructions = self.instructions;
        for f in self.configure {
            f(&mut config);
        }
        let inner = Arc::new(Inner {
            registry: RwLock::new(self.registry),
            state: Arc::new(self.state),
            page_size: self.page_size,
            connections: Mutex::new(Vec::new()),
        });
        let mut service = Service::new(config, Dispatch(inner.clone()));
        if let Some(store) = self.task_store {
            service = service.with_boxed_task_store(store);
        }
        (service, inner)
    }
}

/// What a server with task tools declares: legacy `tasks` (list, cancel, task-augmented
/// `tools/call`) and the 2026-07-28 extension (the session hides whichever the peer's era
/// does not know).
fn tasks_capabilities(caps: &mut ServerCapabilities) {
    use mcp_proto::schema::lifecycle::{
        ServerTaskRequests, ServerTasksCapability, ToolsTaskRequests,
    };
    caps.tasks = Some(ServerTasksCapability {
        list: Some(Default::default()),
        cancel: Some(Default::default()),
        requests: Some(ServerTaskRequests {
            tools: Some(ToolsTaskRequests {
                call: Some(Default::default()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    caps.extensions.get_or_insert_with(Default::default).insert(
        mcp_proto::schema::tasks_ext::EXTENSION_ID.into(),
        Value::Object(Default::default()),
    );
}

fn resource_def(
    uri: impl Into<String>,
    name: impl Into<String>,
    mime_type: impl Into<String>,
) -> Resource {
    Resource {
        uri: uri.into(),
        name: name.into(),
        mime_type: Some(mime_type.into()),
        ..Default::default()
    }
}
