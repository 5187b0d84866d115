//! Changing what a running server offers, and telling its clients.

use std::sync::Arc;

use mcp_proto::schema::content::Resource;
use mcp_proto::schema::prompts::Prompt;
use mcp_proto::schema::resources::ResourceTemplate;
use mcp_proto::schema::tools::Tool;
use serde_json::Value;

use super::dispatch::Inner;
use super::handler::HandlerFn;
use super::output::{IntoPromptResult, IntoResourceContents, IntoToolResult, RpcError, ToolError};
use super::registry;
use crate::server::ServerHandle;
use crate::tasks::TaskOptions;

/// Changes a built server's tools, prompts and resources while it runs, and notifies every
/// open connection (`notifications/*/list_changed`, `notifications/resources/updated`).
/// Cheap to clone. From [`ServerBuilder::build_with_control`](super::ServerBuilder::build_with_control).
///
/// Connections are learnt through [`Handler::on_connection`](crate::Handler::on_connection)
/// and held weakly: a finished connection is forgotten. Legacy clients get the
/// notifications on their session; 2026-07-28 clients on the `subscriptions/listen` streams
/// that asked for them. Resource updates reach only clients subscribed to that URI.
///
/// ```
/// use mcp_driver::Server;
///
/// let (service, control) = Server::builder("dynamic", "1.0.0").build_with_control();
/// // ... serve `service`, then later:
/// control.add_tool("late", "Added while running", || async { Ok("here") });
/// control.resource_updated("file:///notes.txt");
/// # drop(service);
/// ```
#[derive(Clone)]
pub struct ServerControl {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ServerControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerControl").finish_non_exhaustive()
    }
}

impl ServerControl {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        ServerControl { inner }
    }

    fn notify(&self, f: impl Fn(&ServerHandle)) {
        for handle in self.inner.live_connections() {
            f(&handle);
        }
    }

    /// How many connections are open.
    pub fn connections(&self) -> usize {
        self.inner.live_connections().len()
    }

    /// Adds (or replaces) a tool, as [`ServerBuilder::tool`](super::ServerBuilder::tool)
    /// does, and tells clients the tool list changed.
    pub fn add_tool<X, O, H>(
        &self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: H,
    ) where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        self.add_tool_with(Tool::new(name, description, Value::Null), handler);
    }

    /// Adds (or replaces) a tool described in full, and tells clients.
    pub fn add_tool_with<X, O, H>(&self, tool: Tool, handler: H)
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        self.inner.write().add_tool(tool, handler);
        self.notify(ServerHandle::notify_tools_list_changed);
    }

    /// Adds (or replaces) a task tool, as
    /// [`ServerBuilder::task_tool_with`](super::ServerBuilder::task_tool_with) does, and
    /// tells clients. Its calls run as tasks only if the server declared tasks when it was
    /// built, i.e. registered a task tool then.
    pub fn add_task_tool_with<X, O, H>(&self, tool: Tool, options: TaskOptions, handler: H)
    where
        H: HandlerFn<X, Output = Result<O, ToolError>>,
        O: IntoToolResult,
    {
        let task = (options.support != crate::tasks::TaskSupport::Forbidden).then_some(options);
        self.inner.write().add_task_tool(tool, task, handler);
        self.notify(ServerHandle::notify_tools_list_changed);
    }

    /// Removes a tool; tells clients if there was one.
    pub fn remove_tool(&self, name: &str) -> bool {
        let removed = self.inner.write().tools.remove(name);
        if removed {
            self.notify(ServerHandle::notify_tools_list_changed);
        }
        removed
    }

    /// Adds (or replaces) a prompt, as [`ServerBuilder::prompt`](super::ServerBuilder::prompt)
    /// does, and tells clients the prompt list changed.
    pub fn add_prompt<X, P, H>(
        &self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: H,
    ) where
        H: HandlerFn<X, Output = Result<P, RpcError>>,
        P: IntoPromptResult,
    {
        self.add_prompt_with(Prompt::new(name, description), handler);
    }

    /// Adds (or replaces) a prompt described in full, and tells clients.
    pub fn add_prompt_with<X, P, H>(&self, prompt: Prompt, handler: H)
    where
        H: HandlerFn<X, Output = Result<P, RpcError>>,
        P: IntoPromptResult,
    {
        self.inner.write().add_prompt(prompt, handler);
        self.notify(ServerHandle::notify_prompts_list_changed);
    }

    /// Removes a prompt; tells clients if there was one.
    pub fn remove_prompt(&self, name: &str) -> bool {
        let removed = self.inner.write().prompts.remove(name);
        if removed {
            self.notify(ServerHandle::notify_prompts_list_changed);
        }
        removed
    }

    /// Adds (or replaces) a fixed resource, as
    /// [`ServerBuilder::resource`](super::ServerBuilder::resource) does, and tells clients the
    /// resource list changed.
    pub fn add_resource<X, R, H>(
        &self,
        uri: impl Into<String>,
        name: impl Into<String>,
        mime_type: impl Into<String>,
        handler: H,
    ) where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.add_resource_with(super::resource_def(uri, name, mime_type), handler);
    }

    /// Adds (or replaces) a resource described in full, and tells clients.
    pub fn add_resource_with<X, R, H>(&self, resource: Resource, handler: H)
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.inner.write().add_resource(resource, handler);
        self.notify(ServerHandle::notify_resources_list_changed);
    }

    /// Adds (or replaces) a resource of fixed text (`text/plain`), and tells clients.
    pub fn add_text_resource(
        &self,
        uri: impl Into<String>,
        name: impl Into<String>,
        text: impl Into<String>,
    ) {
        let handler = registry::fixed_text(text.into());
        self.add_resource(uri, name, "text/plain", handler);
    }

    /// Removes a fixed resource; tells clients if there was one.
    pub fn remove_resource(&self, uri: &str) -> bool {
        let removed = self.inner.write().resources.remove(uri);
        if removed {
            self.notify(ServerHandle::notify_resources_list_changed);
        }
        removed
    }

    /// Adds (or replaces) a resource template, as
    /// [`ServerBuilder::resource_template`](super::ServerBuilder::resource_template) does,
    /// and tells clients the resource list changed.
    pub fn add_resource_template<X, R, H>(
        &self,
        uri_template: impl Into<String>,
        name: impl Into<String>,
        handler: H,
    ) where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.add_resource_template_with(ResourceTemplate::new(uri_template, name), handler);
    }

    /// Adds (or replaces) a resource template described in full, and tells clients.
    pub fn add_resource_template_with<X, R, H>(&self, template: ResourceTemplate, handler: H)
    where
        H: HandlerFn<X, Output = Result<R, RpcError>>,
        R: IntoResourceContents,
    {
        self.inner.write().add_template(template, handler);
        self.notify(ServerHandle::notify_resources_list_changed);
    }

    /// Removes a resource template (by its template string); tells clients if there was one.
    pub fn remove_resource_template(&self, uri_template: &str) -> bool {
        let removed = self.inner.write().templates.remove(uri_template);
        if removed {
            self.notify(ServerHandle::notify_resources_list_changed);
        }
        removed
    }

    /// Tells the clients subscribed to `uri` that the resource changed.
    pub fn resource_updated(&self, uri: &str) {
        self.notify(|h| h.notify_resource_updated(uri));
    }
}
