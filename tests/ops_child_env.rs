//! The children opsdeck starts see none of its secrets: an action command
//! (through the real executor and the real supervisor), a secret helper
//! (`password_command`) and a backup tool all run `/usr/bin/env`, with a
//! cluster's `password_env` variable set in this process's environment, and
//! none of them prints it; each sees what it declares. One test in this
//! binary: it sets a variable of its own environment before any thread runs.

use std::path::Path;
use std::time::Duration;

use opsdeck::config::secret::{Secret, SecretValue};
use opsdeck::ops::audit::Operator;
use opsdeck::ops::catalog;
use opsdeck::ops::executor::{Event, Request, SessionFacts, Sinks, execute};
use opsdeck::ops::guard::Confirmation;
use opsdeck::ops::plan::{self, Context};
use opsdeck::ops::target::Target;
use opsdeck::sources::backups::tool::{self, ToolRun};
use opsdeck::sources::{Payload, Update};
use opsdeck::store::{SessionInfo, open_and_begin};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const SECRET_VAR: &str = "OPSDECK_TEST_PG_PW";
const SECRET_VALUE: &str = "pg-secret-4f1c9a";

fn assert_clean(who: &str, env_output: &str) {
    assert!(!env_output.contains(SECRET_VAR), "{who} saw the secret's name:\n{env_output}");
    assert!(!env_output.contains(SECRET_VALUE), "{who} saw the secret:\n{env_output}");
    assert!(env_output.lines().any(|l| l.starts_with("PATH=")), "{who} lost PATH:\n{env_output}");
}

async fn action_env() -> String {
    let dir = tempfile::tempdir().unwrap();
    let toml = format!(
        "[[clusters]]\nname = \"main-pg\"\nkind = \"postgres\"\nmembers = [\"127.0.0.1:5432\"]\n\
         user = \"opsdeck\"\npassword_env = \"{SECRET_VAR}\"\n\n\
         [[actions]]\nname = \"show_env\"\nlabel = \"env\"\napplies_to = \"node\"\nargv = [\"/usr/bin/env\"]\n\
         mutating = false\nenv = {{ DECLARED_FOR_ACTION = \"yes\" }}\n"
    );
    let config = opsdeck::config::parse(&toml, Path::new("test.toml")).unwrap();
    let def = catalog::all(&config).into_iter().find(|a| a.name == "show_env").unwrap();
    let who = SessionInfo { host: "h", os_user: "u", read_only: false };
    let info = open_and_begin(dir.path().join("state.db"), who).await.unwrap();
    let target = Target::node("h", None, None);
    let preview = plan::prepare(&def, &target, &Context::default()).unwrap().preview();
    let request = Request {
        ticket: 1,
        def,
        pinned: target,
        shown_preview: preview,
        confirmation: Confirmation { typed: "y".into(), ..Confirmation::default() },
        form: Default::default(),
        planned_at: jiff::Timestamp::now(),
        session: SessionFacts::default(),
        operator: Operator::from_env("h"),
        session_id: Some(info.session_id),
        cancel: CancellationToken::new(),
    };
    let (tx, mut rx) = mpsc::channel::<Update>(256);
    execute(request, Sinks { store: Some(info.store.clone()), mirror: None, events: tx }).await;
    let mut out = None;
    while let Ok(u) = rx.try_recv() {
        if let Ok(Payload::Action(Event::Ended { result, .. })) = u.result {
            out = Some(result.unwrap().excerpt);
        }
    }
    info.store.close().await;
    out.expect("an Ended event")
}

#[test]
fn children_get_their_own_declared_variables_and_none_of_opsdecks_secrets() {
    // SAFETY: the only test in this binary, before its runtime starts any
    // thread: nothing reads the environment concurrently.
    unsafe { std::env::set_var(SECRET_VAR, SECRET_VALUE) };
    opsdeck::ops::run::use_supervisor(env!("CARGO_BIN_EXE_opsdeck").into());
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        // The secret is really there to leak: the cluster's password resolves from it.
        let pw = Secret::Env(SECRET_VAR.into()).resolve().await.unwrap();
        assert_eq!(pw.expose(), SECRET_VALUE);

        let action = action_env().await;
        assert_clean("the action", &action);
        assert!(action.lines().any(|l| l == "DECLARED_FOR_ACTION=yes"), "{action}");

        let helper = Secret::Command(vec!["/usr/bin/env".into()]).resolve().await.unwrap();
        assert_clean("the password_command", helper.expose());

        let run = ToolRun {
            argv: vec!["/usr/bin/env".into()],
            env: vec![("RESTIC_PASSWORD".into(), SecretValue::new("restic-own".into()))],
            run_as: None,
            timeout: Duration::from_secs(10),
        };
        let out = tool::run(&run).await.unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_clean("the backup tool", &text);
        assert!(text.lines().any(|l| l == "RESTIC_PASSWORD=restic-own"), "{text}");
    });
}
