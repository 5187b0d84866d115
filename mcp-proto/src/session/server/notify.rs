//! Notifications the application triggers: list changes, resource updates, listen streams.

use serde_json::Value;

use super::*;

impl ServerSession {
    // ----- list changes, resource updates, listen streams ----------------------------------

    /// Tells clients the tool list changed (legacy session and matching listen streams).
    pub fn notify_tools_list_changed(&mut self) {
        let legacy_ok = self
            .config
            .capabilities
            .tools
            .as_ref()
            .and_then(|t| t.list_changed)
            == Some(true);
        self.broadcast(
            method::TOOLS_LIST_CHANGED,
            legacy_ok,
            |f| f.tools_list_changed == Some(true),
            None,
        );
    }

    /// Tells clients the prompt list changed.
    pub fn notify_prompts_list_changed(&mut self) {
        let legacy_ok = self
            .config
            .capabilities
            .prompts
            .as_ref()
            .and_then(|t| t.list_changed)
            == Some(true);
        self.broadcast(
            method::PROMPTS_LIST_CHANGED,
            legacy_ok,
            |f| f.prompts_list_changed == Some(true),
            None,
        );
    }

    /// Tells clients the resource list changed.
    pub fn notify_resources_list_changed(&mut self) {
        let legacy_ok = self
            .config
            .capabilities
            .resources
            .as_ref()
            .and_then(|t| t.list_changed)
            == Some(true);
        self.broadcast(
            method::RESOURCES_LIST_CHANGED,
            legacy_ok,
            |f| f.resources_list_changed == Some(true),
            None,
        );
    }

    /// Tells subscribers that a resource changed.
    pub fn notify_resource_updated(&mut self, uri: &str) {
        let legacy_ok = self.resource_subscriptions.contains(uri);
        self.broadcast(
            method::RESOURCES_UPDATED,
            legacy_ok,
            |f| {
                f.resource_subscriptions
                    .as_ref()
                    .is_some_and(|u| u.iter().any(|x| x == uri))
            },
            Some(uri),
        );
    }

    /// Tells the client that the URL-mode elicitation `elicitation_id` finished
    /// (`notifications/elicitation/complete`). Only a ready 2025-11-25 session whose client
    /// declared URL-mode elicitation gets it (2026-07-28 has no such notification); returns
    /// whether it was queued.
    pub fn notify_elicitation_complete(&mut self, elicitation_id: &str) -> bool {
        let ready = self.legacy.as_ref().is_some_and(|l| {
            l.phase != Phase::AwaitingInitialize && l.capabilities.supports_elicitation_url()
        });
        if !ready {
            return false;
        }
        let params = crate::schema::elicitation::ElicitationCompleteNotificationParams {
            elicitation_id: elicitation_id.to_owned(),
            ..Default::default()
        };
        self.outbox
            .notification(Route::Session, method::ELICITATION_COMPLETE, Some(&params))
            .is_ok()
    }

    pub(super) fn broadcast(
        &mut self,
        method_name: &str,
        legacy_ok: bool,
        wants: impl Fn(&SubscriptionFilter) -> bool,
        uri: Option<&str>,
    ) {
        let params_for = |meta: Option<Meta>| -> Value {
            match uri {
                Some(u) => serde_json::to_value(ResourceUpdatedNotificationParams {
                    meta,
                    uri: u.to_owned(),
                    ..Default::default()
                })
                .unwrap_or(Value::Null),
                None => serde_json::to_value(RequestParams {
                    meta,
                    ..Default::default()
                })
                .unwrap_or(Value::Null),
            }
        };
        if legacy_ok
            && self
                .legacy
                .as_ref()
                .is_some_and(|l| l.phase != Phase::AwaitingInitialize)
        {
            let p = params_for(None);
            let _ = self
                .outbox
                .notification(Route::Session, method_name, Some(&p));
        }
        let mut targets: Vec<RequestId> = self
            .subscriptions
            .iter()
            .filter(|(_, s)| wants(&s.filter))
            .map(|(id, _)| id.clone())
            .collect::<Vec<_>>();
        // Sorted so the order of notifications does not depend on hash order.
        targets.sort();
        for id in targets {
            let p = params_for(Some(subscription_meta(&id)));
            let _ = self
                .outbox
                .notification(Route::Request(id.clone()), method_name, Some(&p));
        }
    }

    pub(super) fn open_subscription(
        &mut self,
        id: RequestId,
        requested: SubscriptionFilter,
        incoming: Incoming,
    ) {
        if self.subscriptions.len() >= self.config.max_subscriptions {
            let e = ErrorObject::internal("too many subscriptions");
            return self.reply_error(&id, e);
        }
        let caps = &self.config.capabilities;
        let wants_tasks = requested.task_ids.as_ref().is_some_and(|t| !t.is_empty());
        if wants_tasks {
            let declared = incoming
                .capabilities
                .as_ref()
                .and_then(|c| c.extensions.as_ref())
                .is_some_and(|e| e.contains_key(tasks_ext::EXTENSION_ID));
            if !declared || !self.serves_task_extension() {
                return self.reply_error(&id, missing_task_extension());
            }
        }
        let list_changed = |c: Option<bool>, asked: Option<bool>| {
            (asked == Some(true) && c == Some(true)).then_some(true)
        };
        let resources_subscribe = caps.resources.as_ref().and_then(|r| r.subscribe) == Some(true);
        let granted = SubscriptionFilter {
            tools_list_changed: list_changed(
                caps.tools.as_ref().and_then(|t| t.list_changed),
                requested.tools_list_changed,
            ),
            prompts_list_changed: list_changed(
                caps.prompts.as_ref().and_then(|t| t.list_changed),
                requested.prompts_list_changed,
            ),
            resources_list_changed: list_changed(
                caps.resources.as_ref().and_then(|t| t.list_changed),
                requested.resources_list_changed,
            ),
            resource_subscriptions: requested
                .resource_subscriptions
                .filter(|_| resources_subscribe),
            task_ids: requested.task_ids,
            ..Default::default()
        };
        let ack = SubscriptionsAcknowledgedNotificationParams {
            meta: Some(subscription_meta(&id)),
            notifications: granted.clone(),
            ..Default::default()
        };
        let _ = self.outbox.notification(
            Route::Request(id.clone()),
            method::SUBSCRIPTIONS_ACKNOWLEDGED,
            Some(&ack),
        );
        self.incoming.insert(id.clone(), incoming);
        self.subscriptions.insert(
            id.clone(),
            Subscription {
                filter: granted.clone(),
            },
        );
        self.events.push_back(ServerEvent::SubscriptionOpened {
            id,
            filter: granted,
        });
    }

    /// Ends a listen stream gracefully with its result.
    pub fn close_subscription(&mut self, id: &RequestId) -> Result<(), UsageError> {
        if self.subscriptions.remove(id).is_none() {
            return Err(UsageError::UnknownRequest(id.clone()));
        }
        self.incoming.remove(id);
        let mut result = ServerResult::Listen(SubscriptionsListenResult {
            meta: Some(subscription_meta(id)),
            ..Default::default()
        });
        self.stamp(&mut result);
        self.outbox
            .response(Route::Request(id.clone()), id, &result)?;
        self.events
            .push_back(ServerEvent::SubscriptionClosed { id: id.clone() });
        Ok(())
    }
}
