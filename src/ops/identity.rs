//! Who is at the keyboard, as the kernel says rather than as the
//! environment claims. `USER`, `SUDO_USER` and `SSH_CONNECTION` are plain
//! variables anyone can set (`USER=bob SSH_CONNECTION="203.0.113.7 …"`), so
//! they are kept only as claims. What is recorded as the identity is the real
//! uid and its passwd entry, the login uid the kernel pinned at login
//! (`/proc/self/loginuid`, unchanged by `su` and `sudo`), and the SSH peer
//! read from the session's own sshd ancestor's socket.

use std::ffi::CStr;
use std::os::unix::fs::MetadataExt;

/// `/proc/self/loginuid` when no login set it.
const LOGIN_UID_UNSET: u32 = u32::MAX;

/// How far up the process tree to look for sshd.
const MAX_ANCESTORS: usize = 64;

/// The name of `uid` in the passwd database (files, LDAP, whatever NSS has).
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0u8; 4096];
    loop {
        // SAFETY: `passwd` is plain data filled by getpwuid_r; `buf` outlives
        // the call and its length is passed; `result` is either null or
        // points at `pwd`, whose strings point into `buf`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut result) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: pw_name is a NUL-terminated string inside `buf`.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        return Some(name.to_string_lossy().into_owned());
    }
}

/// The real uid of this process.
pub fn real_uid() -> u32 {
    // SAFETY: getuid(2) cannot fail and touches no memory of ours.
    unsafe { libc::getuid() }
}

/// The audit login uid: who logged in, kept across `su`/`sudo`. `None` when
/// unset (a daemon, a container without audit) or unreadable.
pub fn login_uid() -> Option<u32> {
    let text = std::fs::read_to_string("/proc/self/loginuid").ok()?;
    text.trim().parse::<u32>().ok().filter(|uid| *uid != LOGIN_UID_UNSET)
}

/// A process's `comm` and parent pid from `/proc/<pid>/stat`.
fn comm_and_ppid(pid: i32) -> Option<(String, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) state ppid …": comm may hold spaces and parentheses.
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let ppid = stat.get(close + 1..)?.split_whitespace().nth(1)?.parse().ok()?;
    Some((comm, ppid))
}

/// Field 22 of `/proc/<pid>/stat`: when the process started, in clock
/// ticks since boot. With the pid it names one process for good: a recycled
/// pid has another start time.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    // After the comm: field 3 (state) is the first; field 22 is the 20th.
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None; // dead, only not yet reaped
    }
    fields.nth(18)?.parse().ok()
}

/// Whether process `pid` that started at `start` (field 22) still runs.
pub fn process_alive(pid: i64, start: i64) -> bool {
    let Ok(pid) = i32::try_from(pid) else { return false };
    pid > 0 && start_time(pid).is_some_and(|s| i64::try_from(s) == Ok(start))
}

fn is_sshd(comm: &str) -> bool {
    // OpenSSH's per-connection processes: "sshd", and since 9.8 "sshd-session".
    comm == "sshd" || comm.starts_with("sshd-")
}

fn owner_uid(pid: i32) -> Option<u32> {
    std::fs::metadata(format!("/proc/{pid}")).ok().map(|m| m.uid())
}

/// The SSH client this process's session came from, read from the process
/// tree: the nearest sshd ancestor (one run by root somewhere up its chain,
/// so a program merely named sshd does not count) and the remote end of
/// its TCP socket. `Some("via sshd pid N, address unreadable")` when the
/// session is an SSH one but its socket cannot be read (another user's
/// sshd, without root); `None` when no sshd is an ancestor.
pub fn ssh_peer_from_ancestry() -> Option<String> {
    let (_, mut pid) = comm_and_ppid(std::process::id() as i32)?;
    let mut sshds = Vec::new();
    for _ in 0..MAX_ANCESTORS {
        if pid <= 1 {
            break;
        }
        let Some((comm, ppid)) = comm_and_ppid(pid) else { break };
        if is_sshd(&comm) {
            sshds.push(pid);
        } else if !sshds.is_empty() {
            break; // above the sshd processes of this session
        }
        pid = ppid;
    }
    if !sshds.iter().any(|p| owner_uid(*p) == Some(0)) {
        return None;
    }
    sshds
        .iter()
        .find_map(|p| socket_peer(*p))
        .or_else(|| Some(format!("via sshd pid {}, address unreadable", sshds[0])))
}

/// The remote address of an established TCP socket process `pid` holds.
pub fn socket_peer(pid: i32) -> Option<String> {
    let inodes: Vec<u64> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()?
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter_map(|target| {
            let t = target.to_str()?;
            t.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
        })
        .collect();
    if inodes.is_empty() {
        return None;
    }
    ["tcp", "tcp6"].iter().find_map(|table| {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")).ok()?;
        text.lines().skip(1).find_map(|line| {
            let (inode, remote) = parse_tcp_line(line)?;
            inodes.contains(&inode).then_some(remote)
        })
    })
}

/// One line of `/proc/net/tcp{,6}`: the socket's inode and, when the
/// connection is established, its remote end as `addr:port`.
pub fn parse_tcp_line(line: &str) -> Option<(u64, String)> {
    const ESTABLISHED: &str = "01";
    let fields: Vec<&str> = line.split_whitespace().collect();
    let (remote, state, inode) = (fields.get(2)?, fields.get(3)?, fields.get(9)?);
    if *state != ESTABLISHED {
        return None;
    }
    let (addr, port) = remote.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    // The kernel prints each 32-bit word of the address in host order.
    let mut bytes = Vec::with_capacity(16);
    for chunk in addr.as_bytes().chunks(8) {
        let word = u32::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip: std::net::IpAddr = match bytes.len() {
        4 => std::net::Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]).into(),
        16 => {
            let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?);
            v6.to_ipv4_mapped().map_or(v6.into(), Into::into)
        }
        _ => return None,
    };
    let remote = match ip {
        std::net::IpAddr::V4(v4) => format!("{v4}:{port}"),
        std::net::IpAddr::V6(v6) => format!("[{v6}]:{port}"),
    };
    Some((inode.parse().ok()?, remote))
}

/// Who is at the keyboard: what the kernel says, and beside it what the
/// environment claims (kept, marked as claims, never taken as the identity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The real uid.
    pub uid: u32,
    /// The real uid's name (passwd), else `uid N`.
    pub os_user: String,
    /// The login uid (`/proc/self/loginuid`): who logged in, across su/sudo.
    pub login_uid: Option<u32>,
    /// The login uid's name.
    pub login_user: Option<String>,
    /// The SSH client, from the session's own sshd ancestor.
    pub ssh_peer: Option<String>,
    /// What `USER`/`LOGNAME`, `SUDO_USER` and `SSH_CONNECTION` say.
    pub claimed: Claimed,
    /// The controlling terminal.
    pub tty: Option<String>,
    /// This host.
    pub host: String,
}

/// The environment's account of who is at the keyboard: anyone can set
/// these, so they are recorded as claims only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claimed {
    /// `USER`, else `LOGNAME`.
    pub user: Option<String>,
    /// `SUDO_USER`.
    pub sudo_user: Option<String>,
    /// Client address and port from `SSH_CONNECTION`.
    pub ssh_origin: Option<String>,
}

impl Operator {
    /// The operator of this process, with the claims of its environment.
    pub fn from_env(host: &str) -> Operator {
        Operator::from_lookup(host, |k| std::env::var(k).ok())
    }

    /// The operator of this process, with the claims read through `lookup`
    /// (the environment, or a test's map). The identity itself is the
    /// kernel's and does not depend on `lookup`.
    pub fn from_lookup(host: &str, lookup: impl Fn(&str) -> Option<String>) -> Operator {
        let var = |k: &str| lookup(k).filter(|v| !v.is_empty());
        let uid = real_uid();
        let login_uid = login_uid();
        Operator {
            uid,
            os_user: user_name(uid).unwrap_or_else(|| format!("uid {uid}")),
            login_uid,
            login_user: login_uid.and_then(user_name),
            ssh_peer: ssh_peer_from_ancestry(),
            claimed: Claimed {
                user: var("USER").or_else(|| var("LOGNAME")),
                sudo_user: var("SUDO_USER"),
                // "client_ip client_port server_ip server_port": the first two say who.
                ssh_origin: var("SSH_CONNECTION")
                    .map(|c| c.split_whitespace().take(2).collect::<Vec<_>>().join(":")),
            },
            tty: std::fs::read_link("/proc/self/fd/0").ok().map(|p| p.display().to_string()),
            host: host.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_net_tcp_lines() {
        let v4 = "   1: 0100007F:0016 0A00000A:C822 01 00000000:00000000 02:000A7B8C 00000000     0        0 4242 1 0";
        assert_eq!(parse_tcp_line(v4), Some((4242, "10.0.0.10:51234".into())));
        let listening =
            "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 17 1";
        assert_eq!(parse_tcp_line(listening), None);
        let v6 = "   0: 00000000000000000000000001000000:0016 0000000000000000FFFF0000077100CB:9C40 01 00000000:00000000 00:00000000 00000000     0        0 99 1";
        assert_eq!(parse_tcp_line(v6), Some((99, "203.0.113.7:40000".into())));
    }

    #[test]
    fn this_process_has_a_start_time_and_a_bogus_one_is_not_alive() {
        let me = std::process::id() as i32;
        let start = start_time(me).unwrap();
        assert!(process_alive(me.into(), start as i64));
        assert!(!process_alive(me.into(), start as i64 + 1), "another start time is another process");
        assert!(!process_alive(0, 0));
    }

    #[test]
    fn a_real_tcp_peer_is_read_from_the_socket_table() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (_server_side, _) = listener.accept().unwrap();
        let me = std::process::id() as i32;
        let peer = socket_peer(me).unwrap();
        // Our own process holds both ends: either remote end is a loopback port of ours.
        let ports = [listener.local_addr().unwrap().port(), client.local_addr().unwrap().port()];
        assert!(ports.iter().any(|p| peer == format!("127.0.0.1:{p}")), "{peer} not in {ports:?}");
    }
}
