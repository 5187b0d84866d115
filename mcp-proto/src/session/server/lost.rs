//! Requests the transport lost on the way to the client.

use super::*;

impl ServerSession {
    /// Gives up on one of our requests because its frame never reached the client (an HTTP
    /// stream resumed past what its store kept): the client is told with
    /// `notifications/cancelled`, and whoever waits for the answer gets
    /// [`RequestError::Lost`] now rather than waiting forever.
    pub fn fail_lost_request(&mut self, id: &RequestId, reason: &str) -> Result<(), UsageError> {
        self.cancel_request(id, Some(reason.to_owned()))?;
        self.events.push_back(ServerEvent::Response {
            id: id.clone(),
            result: Err(RequestError::Lost(reason.to_owned())),
        });
        Ok(())
    }
}
