//! Who the trail says ran an action is the kernel's answer, not the
//! environment's: the real binary in a real pseudo-terminal, started with a
//! forged `USER`, `SUDO_USER` and `SSH_CONNECTION` ("bob (as alice) from
//! 203.0.113.7"), runs an action; `opsdeck audit` names the real user and
//! shows the forged values only as claims.

mod common;

use common::Sandbox;

fn real_user() -> String {
    let uid = opsdeck::ops::identity::real_uid();
    opsdeck::ops::identity::user_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

#[test]
fn a_forged_environment_is_recorded_as_a_claim_not_as_the_identity() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("ran");
    let cfg = sandbox.write(
        "actions.toml",
        &format!(
            "[[actions]]\nname = \"touch\"\nlabel = \"Touch\"\napplies_to = \"node\"\n\
             argv = [\"touch\", {:?}]\nmutating = false\n",
            marker.to_str().unwrap()
        ),
    );
    let forged =
        [("USER", "bob"), ("SUDO_USER", "alice"), ("SSH_CONNECTION", "203.0.113.7 40000 10.0.0.1 22")];
    let mut s = sandbox.spawn_with(&["--config", cfg.to_str().unwrap()], &forged);
    s.wait_for("the process table and an open store", |t| t.contains("PID") && t.contains("store ✓"));
    s.send(":touch\r");
    s.wait_for("the dialog", |t| t.contains(" touch — "));
    s.send("y");
    s.wait_for("the run to end", |t| t.contains("exit 0"));
    s.wait_for_cond("the action's side effect", || marker.exists());
    s.send("\x1b");
    s.wait_for("the run view to close", |t| !t.contains("Esc closes"));
    s.send("q");
    assert_eq!(s.wait_exit(), 0);

    let out = sandbox.command(["audit"]).output().unwrap();
    let table = String::from_utf8_lossy(&out.stdout);
    let row = table.lines().find(|l| l.contains(" touch ")).unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(&format!(" {}", real_user())), "the real user is the identity:\n{table}");
    assert!(!row.contains("bob") && !row.contains("alice") && !row.contains("203.0.113.7"), "{table}");
    assert!(
        table.contains(
            "    claimed (unverified): USER=bob, SUDO_USER=alice, SSH_CONNECTION from 203.0.113.7:40000"
        ),
        "{table}"
    );

    let out = sandbox.command(["audit", "--json"]).output().unwrap();
    let json: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().next().unwrap()).unwrap();
    assert_eq!(json["who"], real_user().as_str(), "{json:#}");
    assert_eq!(json["uid"], opsdeck::ops::identity::real_uid(), "{json:#}");
    assert_eq!(json["claimed_user"], "bob");
    assert_eq!(json["claimed_sudo_user"], "alice");
    assert_eq!(json["claimed_ssh_origin"], "203.0.113.7:40000");
    // No sshd is an ancestor of this test: there is no verified origin.
    assert!(json["ssh_origin"].is_null(), "{json:#}");
}
