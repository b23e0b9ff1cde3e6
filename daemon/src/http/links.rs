//! The pages behind signed links: opening one only shows what it will do
//! (link previewers fetch URLs); the button posts it.

use super::*;

/// Check a link's token, or the page that says why it cannot be used.
pub(super) fn claim(state: &AppState, token: &str) -> Result<Claim, Box<Response>> {
    let Some(signer) = &state.links else {
        return Err(Box::new(page(
            StatusCode::NOT_FOUND,
            "Not available",
            "Links are not enabled here.",
        )));
    };
    signer.verify(token, state.clock.now()).map_err(|e| {
        let status = match e {
            crate::links::LinkError::Expired => StatusCode::GONE,
            crate::links::LinkError::Invalid => StatusCode::FORBIDDEN,
        };
        Box::new(page(status, "This link cannot be used", &e.to_string()))
    })
}

/// Opening a link only shows what it will do: link previewers fetch URLs.
pub(super) async fn link_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Response {
    let claim = match claim(&state, &token) {
        Ok(claim) => claim,
        Err(page) => return *page,
    };
    let (title, button) = match claim.action {
        LinkAction::Acknowledge => (
            format!("Case {}: are you going to check?", claim.case_id),
            format!("I'm going ({})", claim.who),
        ),
        LinkAction::ResidentOk => ("Are you OK?".to_string(), "Yes, I'm OK".to_string()),
    };
    let body = format!(
        "<form method=\"post\"><button type=\"submit\">{}</button></form>",
        escape(&button)
    );
    Html(layout(&title, &body)).into_response()
}

pub(super) async fn link_use(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let claim = match claim(&state, &token) {
        Ok(claim) => claim,
        Err(page) => return *page,
    };
    let action = match claim.action {
        LinkAction::Acknowledge => Action::Acknowledge {
            by: claim.who.clone(),
            note: None,
        },
        LinkAction::ResidentOk => Action::ResidentOk,
    };
    match send_action(&state, claim.case_id, action).await {
        Ok(ActionOutcome::Done(case)) => {
            let by = case
                .acknowledged
                .as_ref()
                .map(|a| a.by.as_str())
                .unwrap_or_default();
            let text = match claim.action {
                LinkAction::Acknowledge if by == claim.who => {
                    format!(
                        "Thank you, {}. Everyone told knows you are going.",
                        claim.who
                    )
                }
                LinkAction::Acknowledge => {
                    format!("{by} had already said they are going; nothing changed.")
                }
                LinkAction::ResidentOk => "Thank you. Nobody else will be called.".to_string(),
            };
            page(StatusCode::OK, &format!("Case {}", claim.case_id), &text)
        }
        Ok(ActionOutcome::Unchanged(case)) => {
            let text = match &case.acknowledged {
                Some(ack) => format!(
                    "{} already said they are going at {} UTC; nothing changed.",
                    ack.by,
                    ack.at.format("%H:%M")
                ),
                None => "Nothing changed.".to_string(),
            };
            page(StatusCode::OK, &format!("Case {}", claim.case_id), &text)
        }
        Ok(ActionOutcome::AlreadyClosed(_)) => page(
            StatusCode::OK,
            &format!("Case {}", claim.case_id),
            "This case is already closed; nothing changed.",
        ),
        Ok(ActionOutcome::NoSuchCase) => page(StatusCode::NOT_FOUND, "Not found", "No such case."),
        Err(e) => page(StatusCode::SERVICE_UNAVAILABLE, "Try again", &e.to_string()),
    }
}

pub(super) fn page(status: StatusCode, title: &str, text: &str) -> Response {
    (
        status,
        Html(layout(title, &format!("<p>{}</p>", escape(text)))),
    )
        .into_response()
}

pub(super) fn layout(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width,initial-scale=1\"><title>{t}</title></head>\
         <body style=\"font-family:sans-serif;max-width:30em;margin:2em auto;padding:0 1em\">\
         <h1 style=\"font-size:1.3em\">{t}</h1>{body}</body></html>",
        t = escape(title)
    )
}

pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
