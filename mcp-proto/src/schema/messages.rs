//! Typed requests, notifications and results, decoded by dispatching on `method`.
//!
//! Each enum names its variants after the method they carry; decoding reads the method first
//! and deserializes the params once into that variant's type (no trial-and-error over
//! variants). Methods this crate does not know decode as `Custom` so extensions pass through.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

use super::common::{
    CacheScope, EmptyResult, Meta, PaginatedRequestParams, RequestParams, ResultType,
};
use super::completion::{CompleteRequestParams, CompleteResult};
use super::elicitation::{
    ElicitRequestParams, ElicitResult, ElicitationCompleteNotificationParams,
};
use super::lifecycle::{DiscoverResult, InitializeRequestParams, InitializeResult};
use super::logging::{LoggingMessageNotificationParams, SetLevelRequestParams};
use super::mrtr::InputRequiredResult;
use super::notifications::{CancelledNotificationParams, ProgressNotificationParams};
use super::prompts::{GetPromptRequestParams, GetPromptResult, ListPromptsResult};
use super::resources::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceRequestParams,
    ReadResourceResult, ResourceUpdatedNotificationParams, SubscribeRequestParams,
    UnsubscribeRequestParams,
};
use super::roots::ListRootsResult;
use super::sampling::{CreateMessageRequestParams, CreateMessageResult};
use super::subscriptions::{
    SubscriptionsAcknowledgedNotificationParams, SubscriptionsListenRequestParams,
    SubscriptionsListenResult,
};
use super::tasks;
use super::tasks_ext;
use super::tools::{CallToolRequestParams, CallToolResult, ListToolsResult};
use super::version::Era;
use crate::jsonrpc::ErrorObject;

/// Method names.
pub mod method {
    #![allow(missing_docs)]
    pub const INITIALIZE: &str = "initialize";
    pub const PING: &str = "ping";
    pub const DISCOVER: &str = "server/discover";
    pub const TOOLS_LIST: &str = "tools/list";
    pub const TOOLS_CALL: &str = "tools/call";
    pub const PROMPTS_LIST: &str = "prompts/list";
    pub const PROMPTS_GET: &str = "prompts/get";
    pub const RESOURCES_LIST: &str = "resources/list";
    pub const RESOURCES_TEMPLATES_LIST: &str = "resources/templates/list";
    pub const RESOURCES_READ: &str = "resources/read";
    pub const RESOURCES_SUBSCRIBE: &str = "resources/subscribe";
    pub const RESOURCES_UNSUBSCRIBE: &str = "resources/unsubscribe";
    pub const COMPLETION_COMPLETE: &str = "completion/complete";
    pub const LOGGING_SET_LEVEL: &str = "logging/setLevel";
    pub const SUBSCRIPTIONS_LISTEN: &str = "subscriptions/listen";
    pub const TASKS_GET: &str = "tasks/get";
    pub const TASKS_RESULT: &str = "tasks/result";
    pub const TASKS_LIST: &str = "tasks/list";
    pub const TASKS_CANCEL: &str = "tasks/cancel";
    pub const TASKS_UPDATE: &str = "tasks/update";
    pub const SAMPLING_CREATE_MESSAGE: &str = "sampling/createMessage";
    pub const ELICITATION_CREATE: &str = "elicitation/create";
    pub const ROOTS_LIST: &str = "roots/list";
    pub const INITIALIZED: &str = "notifications/initialized";
    pub const CANCELLED: &str = "notifications/cancelled";
    pub const PROGRESS: &str = "notifications/progress";
    pub const MESSAGE: &str = "notifications/message";
    pub const ROOTS_LIST_CHANGED: &str = "notifications/roots/list_changed";
    pub const RESOURCES_UPDATED: &str = "notifications/resources/updated";
    pub const RESOURCES_LIST_CHANGED: &str = "notifications/resources/list_changed";
    pub const TOOLS_LIST_CHANGED: &str = "notifications/tools/list_changed";
    pub const PROMPTS_LIST_CHANGED: &str = "notifications/prompts/list_changed";

    /// Requests of the initialize-based revisions that 2026-07-28 no longer has: a modern
    /// request for one is method-not-found (404 over HTTP), whatever its params.
    pub const REMOVED_IN_MODERN: &[&str] = &[
        INITIALIZE,
        PING,
        LOGGING_SET_LEVEL,
        RESOURCES_SUBSCRIBE,
        RESOURCES_UNSUBSCRIBE,
        TASKS_RESULT,
        TASKS_LIST,
    ];
    pub const ELICITATION_COMPLETE: &str = "notifications/elicitation/complete";
    pub const TASKS_STATUS: &str = "notifications/tasks/status";
    pub const TASKS_NOTIFICATION: &str = "notifications/tasks";
    pub const SUBSCRIPTIONS_ACKNOWLEDGED: &str = "notifications/subscriptions/acknowledged";

    /// Every method named above.
    const ALL: &[&str] = &[
        INITIALIZE,
        PING,
        DISCOVER,
        TOOLS_LIST,
        TOOLS_CALL,
        PROMPTS_LIST,
        PROMPTS_GET,
        RESOURCES_LIST,
        RESOURCES_TEMPLATES_LIST,
        RESOURCES_READ,
        RESOURCES_SUBSCRIBE,
        RESOURCES_UNSUBSCRIBE,
        COMPLETION_COMPLETE,
        LOGGING_SET_LEVEL,
        SUBSCRIPTIONS_LISTEN,
        TASKS_GET,
        TASKS_RESULT,
        TASKS_LIST,
        TASKS_CANCEL,
        TASKS_UPDATE,
        SAMPLING_CREATE_MESSAGE,
        ELICITATION_CREATE,
        ROOTS_LIST,
        INITIALIZED,
        CANCELLED,
        PROGRESS,
        MESSAGE,
        ROOTS_LIST_CHANGED,
        RESOURCES_UPDATED,
        RESOURCES_LIST_CHANGED,
        TOOLS_LIST_CHANGED,
        PROMPTS_LIST_CHANGED,
        ELICITATION_COMPLETE,
        TASKS_STATUS,
        TASKS_NOTIFICATION,
        SUBSCRIPTIONS_ACKNOWLEDGED,
    ];

    /// The constant for `name` when it is one of the methods above: lets callers keep a
    /// method name without allocating a copy.
    pub fn known(name: &str) -> Option<&'static str> {
        ALL.iter().copied().find(|m| *m == name)
    }

    /// `name` as a [`Cow`](std::borrow::Cow): borrowed when known, copied otherwise.
    pub fn cow(name: &str) -> std::borrow::Cow<'static, str> {
        match known(name) {
            Some(m) => std::borrow::Cow::Borrowed(m),
            None => std::borrow::Cow::Owned(name.to_owned()),
        }
    }
}

/// A request or notification whose method this crate does not model.
#[derive(Debug, Clone, PartialEq)]
pub struct Custom {
    /// The method name.
    pub method: String,
    /// The params (object params; `_meta` and all other keys kept).
    pub params: RequestParams,
}

/// Deserializes params into `T`; absent params read as `{}`.
pub(crate) fn parse_params<T: DeserializeOwned>(
    params: Option<&RawValue>,
) -> Result<T, ErrorObject> {
    let text = params.map(RawValue::get).unwrap_or("{}");
    serde_json::from_str(text).map_err(|e| match e.classify() {
        // The envelope already proved the JSON well-formed: a syntax error here is the
        // nesting limit, which is a parse failure rather than a params problem.
        serde_json::error::Category::Syntax => {
            ErrorObject::parse_error(format!("parse error: {e}"))
        }
        _ => ErrorObject::invalid_params(format!("invalid params: {e}")),
    })
}

/// Uniform access to the `_meta` of every params type.
trait ParamsMeta {
    fn meta_ref(&self) -> Option<&Meta>;
    fn meta_slot(&mut self) -> &mut Option<Meta>;
}

macro_rules! params_meta {
    ($($t:ty),* $(,)?) => {$(
        impl ParamsMeta for $t {
            fn meta_ref(&self) -> Option<&Meta> {
                self.meta.as_ref()
            }
            fn meta_slot(&mut self) -> &mut Option<Meta> {
                &mut self.meta
            }
        }
    )*};
}

params_meta!(
    InitializeRequestParams,
    RequestParams,
    PaginatedRequestParams,
    CallToolRequestParams,
    GetPromptRequestParams,
    ReadResourceRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
    CompleteRequestParams,
    SetLevelRequestParams,
    SubscriptionsListenRequestParams,
    tasks::GetTaskRequestParams,
    tasks::GetTaskPayloadRequestParams,
    tasks::CancelTaskRequestParams,
    tasks_ext::UpdateTaskRequestParams,
    CreateMessageRequestParams,
    CancelledNotificationParams,
    ProgressNotificationParams,
    tasks::TaskStatusNotificationParams,
    LoggingMessageNotificationParams,
    ResourceUpdatedNotificationParams,
    ElicitationCompleteNotificationParams,
    tasks_ext::TaskStatusNotificationParams,
    SubscriptionsAcknowledgedNotificationParams,
);

impl ParamsMeta for ElicitRequestParams {
    fn meta_ref(&self) -> Option<&Meta> {
        match self {
            ElicitRequestParams::Form(p) => p.meta.as_ref(),
            ElicitRequestParams::Url(p) => p.meta.as_ref(),
        }
    }
    fn meta_slot(&mut self) -> &mut Option<Meta> {
        match self {
            ElicitRequestParams::Form(p) => &mut p.meta,
            ElicitRequestParams::Url(p) => &mut p.meta,
        }
    }
}

macro_rules! message_enum {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$vdoc:meta])* $variant:ident($ty:ty) = $method:path ),* $(,)?
        }
    ) => {
        $(#[$doc])*
        // Params are moved once per message; boxing the large ones would cost an allocation
        // on every decode to save a memcpy.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vdoc])* $variant($ty), )*
            /// A method this crate does not model.
            Custom(Custom),
        }

        impl $name {
            /// The method name on the wire.
            pub fn method(&self) -> &str {
                match self {
                    $( $name::$variant(_) => $method, )*
                    $name::Custom(c) => &c.method,
                }
            }

            /// Decodes params for `method`; unknown methods become `Custom`.
            pub fn decode(method: &str, params: Option<&RawValue>) -> Result<Self, ErrorObject> {
                Ok(match method {
                    $( $method => $name::$variant(parse_params(params)?), )*
                    other => $name::Custom(Custom {
                        method: other.to_owned(),
                        params: parse_params(params)?,
                    }),
                })
            }

            /// The params' `_meta`.
            pub fn meta(&self) -> Option<&Meta> {
                match self {
                    $( $name::$variant(p) => ParamsMeta::meta_ref(p), )*
                    $name::Custom(c) => c.params.meta.as_ref(),
                }
            }

            /// Mutable `_meta` (sessions stamp per-request metadata here).
            pub fn meta_mut(&mut self) -> &mut Option<Meta> {
                match self {
                    $( $name::$variant(p) => ParamsMeta::meta_slot(p), )*
                    $name::Custom(c) => &mut c.params.meta,
                }
            }
        }

        impl Serialize for $name {
            /// Serializes the params object (the envelope is written by the session).
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( $name::$variant(p) => p.serialize(s), )*
                    $name::Custom(c) => c.params.serialize(s),
                }
            }
        }
    };
}

message_enum! {
    /// Requests a client sends to a server (both eras).
    ClientRequest {
        /// `initialize` (legacy).
        Initialize(InitializeRequestParams) = method::INITIALIZE,
        /// `ping` (legacy).
        Ping(RequestParams) = method::PING,
        /// `server/discover` (2026-07-28).
        Discover(RequestParams) = method::DISCOVER,
        /// `tools/list`.
        ListTools(PaginatedRequestParams) = method::TOOLS_LIST,
        /// `tools/call`.
        CallTool(CallToolRequestParams) = method::TOOLS_CALL,
        /// `prompts/list`.
        ListPrompts(PaginatedRequestParams) = method::PROMPTS_LIST,
        /// `prompts/get`.
        GetPrompt(GetPromptRequestParams) = method::PROMPTS_GET,
        /// `resources/list`.
        ListResources(PaginatedRequestParams) = method::RESOURCES_LIST,
        /// `resources/templates/list`.
        ListResourceTemplates(PaginatedRequestParams) = method::RESOURCES_TEMPLATES_LIST,
        /// `resources/read`.
        ReadResource(ReadResourceRequestParams) = method::RESOURCES_READ,
        /// `resources/subscribe` (legacy).
        Subscribe(SubscribeRequestParams) = method::RESOURCES_SUBSCRIBE,
        /// `resources/unsubscribe` (legacy).
        Unsubscribe(UnsubscribeRequestParams) = method::RESOURCES_UNSUBSCRIBE,
        /// `completion/complete`.
        Complete(CompleteRequestParams) = method::COMPLETION_COMPLETE,
        /// `logging/setLevel` (legacy).
        SetLevel(SetLevelRequestParams) = method::LOGGING_SET_LEVEL,
        /// `subscriptions/listen` (2026-07-28).
        Listen(SubscriptionsListenRequestParams) = method::SUBSCRIPTIONS_LISTEN,
        /// `tasks/get` (both task generations share the params).
        GetTask(tasks::GetTaskRequestParams) = method::TASKS_GET,
        /// `tasks/result` (legacy).
        GetTaskPayload(tasks::GetTaskPayloadRequestParams) = method::TASKS_RESULT,
        /// `tasks/list` (legacy).
        ListTasks(PaginatedRequestParams) = method::TASKS_LIST,
        /// `tasks/cancel`.
        CancelTask(tasks::CancelTaskRequestParams) = method::TASKS_CANCEL,
        /// `tasks/update` (tasks extension).
        UpdateTask(tasks_ext::UpdateTaskRequestParams) = method::TASKS_UPDATE,
    }
}

message_enum! {
    /// Requests a legacy server sends to a client.
    ServerRequest {
        /// `ping`.
        Ping(RequestParams) = method::PING,
        /// `sampling/createMessage`.
        CreateMessage(CreateMessageRequestParams) = method::SAMPLING_CREATE_MESSAGE,
        /// `elicitation/create`.
        Elicit(ElicitRequestParams) = method::ELICITATION_CREATE,
        /// `roots/list`.
        ListRoots(RequestParams) = method::ROOTS_LIST,
        /// `tasks/get`.
        GetTask(tasks::GetTaskRequestParams) = method::TASKS_GET,
        /// `tasks/result`.
        GetTaskPayload(tasks::GetTaskPayloadRequestParams) = method::TASKS_RESULT,
        /// `tasks/list`.
        ListTasks(PaginatedRequestParams) = method::TASKS_LIST,
        /// `tasks/cancel`.
        CancelTask(tasks::CancelTaskRequestParams) = method::TASKS_CANCEL,
    }
}

message_enum! {
    /// Notifications a client sends.
    ClientNotification {
        /// `notifications/initialized` (legacy).
        Initialized(RequestParams) = method::INITIALIZED,
        /// `notifications/cancelled`.
        Cancelled(CancelledNotificationParams) = method::CANCELLED,
        /// `notifications/progress` (legacy: progress on a server request).
        Progress(ProgressNotificationParams) = method::PROGRESS,
        /// `notifications/roots/list_changed` (legacy).
        RootsListChanged(RequestParams) = method::ROOTS_LIST_CHANGED,
        /// `notifications/tasks/status` (legacy tasks).
        TaskStatus(tasks::TaskStatusNotificationParams) = method::TASKS_STATUS,
    }
}

message_enum! {
    /// Notifications a server sends.
    ServerNotification {
        /// `notifications/cancelled`.
        Cancelled(CancelledNotificationParams) = method::CANCELLED,
        /// `notifications/progress`.
        Progress(ProgressNotificationParams) = method::PROGRESS,
        /// `notifications/message`.
        LoggingMessage(LoggingMessageNotificationParams) = method::MESSAGE,
        /// `notifications/resources/updated`.
        ResourceUpdated(ResourceUpdatedNotificationParams) = method::RESOURCES_UPDATED,
        /// `notifications/resources/list_changed`.
        ResourceListChanged(RequestParams) = method::RESOURCES_LIST_CHANGED,
        /// `notifications/tools/list_changed`.
        ToolListChanged(RequestParams) = method::TOOLS_LIST_CHANGED,
        /// `notifications/prompts/list_changed`.
        PromptListChanged(RequestParams) = method::PROMPTS_LIST_CHANGED,
        /// `notifications/elicitation/complete` (2025-11-25).
        ElicitationComplete(ElicitationCompleteNotificationParams) = method::ELICITATION_COMPLETE,
        /// `notifications/tasks/status` (legacy tasks).
        TaskStatus(tasks::TaskStatusNotificationParams) = method::TASKS_STATUS,
        /// `notifications/tasks` (tasks extension).
        Task(tasks_ext::TaskStatusNotificationParams) = method::TASKS_NOTIFICATION,
        /// `notifications/subscriptions/acknowledged` (2026-07-28).
        SubscriptionsAcknowledged(SubscriptionsAcknowledgedNotificationParams) = method::SUBSCRIPTIONS_ACKNOWLEDGED,
    }
}

/// Results a server returns.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerResult {
    /// `{}` (ping, setLevel, subscribe, tasks/update, tasks/cancel in the extension ...).
    Empty(EmptyResult),
    /// `initialize`.
    Initialize(InitializeResult),
    /// `server/discover`.
    Discover(DiscoverResult),
    /// `tools/list`.
    ListTools(ListToolsResult),
    /// `tools/call`.
    CallTool(CallToolResult),
    /// `prompts/list`.
    ListPrompts(ListPromptsResult),
    /// `prompts/get`.
    GetPrompt(GetPromptResult),
    /// `resources/list`.
    ListResources(ListResourcesResult),
    /// `resources/templates/list`.
    ListResourceTemplates(ListResourceTemplatesResult),
    /// `resources/read`.
    ReadResource(ReadResourceResult),
    /// `completion/complete`.
    Complete(CompleteResult),
    /// `subscriptions/listen` (graceful close).
    Listen(SubscriptionsListenResult),
    /// MRTR: the server needs input before it can answer.
    InputRequired(InputRequiredResult),
    /// Legacy task creation (`{task: ...}`).
    CreateTask(tasks::CreateTaskResult),
    /// Extension task creation (`resultType: "task"`).
    CreateTaskExt(tasks_ext::CreateTaskResult),
    /// Legacy `tasks/get` and `tasks/cancel`.
    GetTask(tasks::GetTaskResult),
    /// Extension `tasks/get`.
    GetTaskExt(tasks_ext::GetTaskResult),
    /// Legacy `tasks/list`.
    ListTasks(tasks::ListTasksResult),
    /// Any other result, e.g. `tasks/result` or a custom method's.
    Other(Value),
}

/// Results a client returns to a legacy server's requests.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientResult {
    /// `{}` (ping).
    Empty(EmptyResult),
    /// `sampling/createMessage`.
    CreateMessage(CreateMessageResult),
    /// `elicitation/create`.
    Elicit(ElicitResult),
    /// `roots/list`.
    ListRoots(ListRootsResult),
    /// Legacy task creation for a task-augmented sampling or elicitation request.
    CreateTask(tasks::CreateTaskResult),
    /// `tasks/get`, `tasks/cancel`.
    GetTask(tasks::GetTaskResult),
    /// `tasks/list`.
    ListTasks(tasks::ListTasksResult),
    /// Any other result.
    Other(Value),
}

macro_rules! delegate_serialize {
    ($name:ident { $($variant:ident),* }) => {
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( $name::$variant(r) => r.serialize(s), )*
                }
            }
        }
    };
}

delegate_serialize!(ServerResult {
    Empty,
    Initialize,
    Discover,
    ListTools,
    CallTool,
    ListPrompts,
    GetPrompt,
    ListResources,
    ListResourceTemplates,
    ReadResource,
    Complete,
    Listen,
    InputRequired,
    CreateTask,
    CreateTaskExt,
    GetTask,
    GetTaskExt,
    ListTasks,
    Other
});

delegate_serialize!(ClientResult {
    Empty,
    CreateMessage,
    Elicit,
    ListRoots,
    CreateTask,
    GetTask,
    ListTasks,
    Other
});

fn parse_result<T: DeserializeOwned>(raw: &RawValue) -> Result<T, String> {
    serde_json::from_str(raw.get()).map_err(|e| e.to_string())
}

/// The keys that tell an input-required or task result apart from a plain one (and a
/// task-augmented client result from a plain one). Both are only looked at, not kept:
/// `resultType` stays raw until it is found, everything else is skipped.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultProbe<'a> {
    #[serde(default, borrow)]
    result_type: Option<&'a RawValue>,
    #[serde(default)]
    task: Option<serde::de::IgnoredAny>,
}

impl<'a> ResultProbe<'a> {
    fn read(raw: &'a RawValue) -> Result<Self, String> {
        serde_json::from_str(raw.get()).map_err(|e| e.to_string())
    }
}

impl ServerResult {
    /// Decodes the result of a request we sent with `method`, in `era`.
    pub fn decode(method: &str, era: Era, raw: &RawValue) -> Result<ServerResult, String> {
        use crate::schema::messages::method as m;
        // Results that may come back as input-required or as a task: a borrowed probe reads
        // the two keys that tell the shapes apart (skipping everything else), then the typed
        // value is parsed straight from the text. Two quick scans beat one scan into a tree.
        if matches!(method, m::TOOLS_CALL | m::PROMPTS_GET | m::RESOURCES_READ) {
            let probe = ResultProbe::read(raw)?;
            let result_type = probe
                .result_type
                .map(|t| ResultType::deserialize(t).map_err(|e| e.to_string()))
                .transpose()?;
            return match result_type {
                Some(ResultType::InputRequired) => {
                    parse_result(raw).map(ServerResult::InputRequired)
                }
                Some(ResultType::Task) if method == m::TOOLS_CALL => {
                    parse_result(raw).map(ServerResult::CreateTaskExt)
                }
                Some(ResultType::Task) => Err(format!("a task result is not valid for {method}")),
                Some(ResultType::Other(t)) => Err(format!("unknown resultType {t:?}")),
                _ if probe.task.is_some() && method == m::TOOLS_CALL && era == Era::Legacy => {
                    parse_result(raw).map(ServerResult::CreateTask)
                }
                _ => Ok(match method {
                    m::TOOLS_CALL => ServerResult::CallTool(parse_result(raw)?),
                    m::PROMPTS_GET => ServerResult::GetPrompt(parse_result(raw)?),
                    _ => ServerResult::ReadResource(parse_result(raw)?),
                }),
            };
        }
        Ok(match method {
            m::INITIALIZE => ServerResult::Initialize(parse_result(raw)?),
            m::DISCOVER => ServerResult::Discover(parse_result(raw)?),
            m::TOOLS_LIST => ServerResult::ListTools(parse_result(raw)?),
            m::TOOLS_CALL => ServerResult::CallTool(parse_result(raw)?),
            m::PROMPTS_LIST => ServerResult::ListPrompts(parse_result(raw)?),
            m::PROMPTS_GET => ServerResult::GetPrompt(parse_result(raw)?),
            m::RESOURCES_LIST => ServerResult::ListResources(parse_result(raw)?),
            m::RESOURCES_TEMPLATES_LIST => ServerResult::ListResourceTemplates(parse_result(raw)?),
            m::RESOURCES_READ => ServerResult::ReadResource(parse_result(raw)?),
            m::COMPLETION_COMPLETE => ServerResult::Complete(parse_result(raw)?),
            m::SUBSCRIPTIONS_LISTEN => ServerResult::Listen(parse_result(raw)?),
            m::TASKS_GET if era == Era::Modern => ServerResult::GetTaskExt(parse_result(raw)?),
            m::TASKS_GET | m::TASKS_CANCEL if era == Era::Legacy => {
                ServerResult::GetTask(parse_result(raw)?)
            }
            m::TASKS_LIST => ServerResult::ListTasks(parse_result(raw)?),
            m::PING
            | m::LOGGING_SET_LEVEL
            | m::RESOURCES_SUBSCRIBE
            | m::RESOURCES_UNSUBSCRIBE
            | m::TASKS_UPDATE
            | m::TASKS_CANCEL => ServerResult::Empty(parse_result(raw)?),
            _ => ServerResult::Other(parse_result(raw)?),
        })
    }

    /// The result's `resultType` (absent reads as complete).
    pub fn result_type(&self) -> ResultType {
        match self {
            ServerResult::InputRequired(_) => ResultType::InputRequired,
            ServerResult::CreateTaskExt(_) => ResultType::Task,
            _ => ResultType::Complete,
        }
    }

    /// Sets `resultType` when absent and adds `_meta` entries, as 2026-07-28 results need.
    pub(crate) fn stamp_modern(&mut self, meta: &[(&str, &Value)]) {
        use super::common::WireResult;
        fn stamp<R: WireResult>(r: &mut R, default: ResultType, meta: &[(&str, &Value)]) {
            r.result_type_mut().get_or_insert(default);
            if !meta.is_empty() {
                let m = r.meta_mut().get_or_insert_with(Meta::new);
                for (k, v) in meta {
                    if m.get(k).is_none() {
                        m.insert(*k, (*v).clone());
                    }
                }
            }
        }
        // Cacheable results must carry caching hints (SEP-2549); absent ones default to the
        // most conservative: not cacheable, and private.
        macro_rules! cache_hints {
            ($r:expr) => {{
                $r.ttl_ms.get_or_insert(0);
                $r.cache_scope.get_or_insert(CacheScope::Private);
            }};
        }
        match self {
            ServerResult::ListTools(r) => cache_hints!(r),
            ServerResult::ListPrompts(r) => cache_hints!(r),
            ServerResult::ListResources(r) => cache_hints!(r),
            ServerResult::ListResourceTemplates(r) => cache_hints!(r),
            ServerResult::ReadResource(r) => cache_hints!(r),
            ServerResult::Discover(r) => cache_hints!(r),
            _ => {}
        }
        let c = ResultType::Complete;
        match self {
            ServerResult::Empty(r) => stamp(r, c, meta),
            ServerResult::Initialize(r) => stamp(r, c, meta),
            ServerResult::Discover(r) => stamp(r, c, meta),
            ServerResult::ListTools(r) => stamp(r, c, meta),
            ServerResult::CallTool(r) => stamp(r, c, meta),
            ServerResult::ListPrompts(r) => stamp(r, c, meta),
            ServerResult::GetPrompt(r) => stamp(r, c, meta),
            ServerResult::ListResources(r) => stamp(r, c, meta),
            ServerResult::ListResourceTemplates(r) => stamp(r, c, meta),
            ServerResult::ReadResource(r) => stamp(r, c, meta),
            ServerResult::Complete(r) => stamp(r, c, meta),
            ServerResult::Listen(r) => stamp(r, c, meta),
            ServerResult::InputRequired(r) => stamp(r, ResultType::InputRequired, meta),
            ServerResult::CreateTask(r) => stamp(r, c, meta),
            ServerResult::CreateTaskExt(r) => stamp(r, ResultType::Task, meta),
            ServerResult::GetTask(r) => stamp(r, c, meta),
            ServerResult::GetTaskExt(r) => stamp(r, c, meta),
            ServerResult::ListTasks(r) => stamp(r, c, meta),
            ServerResult::Other(Value::Object(o)) => {
                o.entry("resultType").or_insert_with(|| "complete".into());
                if !meta.is_empty() {
                    let m = o
                        .entry("_meta")
                        .or_insert_with(|| Value::Object(Default::default()));
                    if let Value::Object(m) = m {
                        for (k, v) in meta {
                            m.entry(*k).or_insert_with(|| (*v).clone());
                        }
                    }
                }
            }
            ServerResult::Other(_) => {}
        }
    }
}

impl ClientResult {
    /// Decodes the result of a server request with `method`.
    pub fn decode(method: &str, raw: &RawValue) -> Result<ClientResult, String> {
        use crate::schema::messages::method as m;
        if matches!(method, m::SAMPLING_CREATE_MESSAGE | m::ELICITATION_CREATE) {
            let p = ResultProbe::read(raw)?;
            if p.task.is_some() {
                return parse_result(raw).map(ClientResult::CreateTask);
            }
        }
        Ok(match method {
            m::PING => ClientResult::Empty(parse_result(raw)?),
            m::SAMPLING_CREATE_MESSAGE => ClientResult::CreateMessage(parse_result(raw)?),
            m::ELICITATION_CREATE => ClientResult::Elicit(parse_result(raw)?),
            m::ROOTS_LIST => ClientResult::ListRoots(parse_result(raw)?),
            m::TASKS_GET | m::TASKS_CANCEL => ClientResult::GetTask(parse_result(raw)?),
            m::TASKS_LIST => ClientResult::ListTasks(parse_result(raw)?),
            _ => ClientResult::Other(parse_result(raw)?),
        })
    }
}

macro_rules! into_result {
    ($target:ident: $($variant:ident($ty:ty)),* $(,)?) => {$(
        impl From<$ty> for $target {
            fn from(r: $ty) -> Self {
                $target::$variant(r)
            }
        }
    )*};
}

into_result!(ServerResult:
    Empty(EmptyResult), Initialize(InitializeResult), Discover(DiscoverResult),
    ListTools(ListToolsResult), CallTool(CallToolResult), ListPrompts(ListPromptsResult),
    GetPrompt(GetPromptResult), ListResources(ListResourcesResult),
    ListResourceTemplates(ListResourceTemplatesResult), ReadResource(ReadResourceResult),
    Complete(CompleteResult), Listen(SubscriptionsListenResult),
    InputRequired(InputRequiredResult), CreateTask(tasks::CreateTaskResult),
    CreateTaskExt(tasks_ext::CreateTaskResult), GetTask(tasks::GetTaskResult),
    GetTaskExt(tasks_ext::GetTaskResult), ListTasks(tasks::ListTasksResult),
);

into_result!(ClientResult:
    CreateMessage(CreateMessageResult), Elicit(ElicitResult), ListRoots(ListRootsResult),
);
