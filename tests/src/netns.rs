//! A test network of Linux network namespaces: one namespace per host, each joined by a veth
//! pair to one bridge in the test's own namespace, so that the test reaches every host's
//! address directly and can cut or heal the links between hosts.
//!
//! Every [`Lab`] takes a free /24 of `10.201.0.0/16` by creating the bridge that names it
//! (creating a link is atomic, so two tests, in one process or in several, never share a
//! subnet); the bridge's alias records the owner's process id, so a lab left behind by a test
//! process that was killed is removed by the next lab that needs its subnet. Dropping a
//! [`Lab`] deletes its namespaces and bridge, on panic too; whoever started processes in it
//! stops them first (a namespace is only a name: processes in it outlive its deletion).
//!
//! Making namespaces needs root (CI runs as root). [`Lab::new`] says why it could not, and
//! tests skip with that message.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// The first two octets of every lab's addresses: a range nothing else on a test machine
/// uses.
const PREFIX: &str = "10.201";

/// The first two octets of overlay addresses (see [`crate::impair`]).
const OVERLAY_PREFIX: &str = "10.202";

/// Last octet of the bridge's own address (the test's side of the network).
const BRIDGE_HOST: u8 = 254;

/// Labs made by this process (a suffix of namespace names, so that they stay unique).
static LABS: AtomicU32 = AtomicU32::new(0);

/// Runs `ip` with `args`; the output, or what failed.
fn ip(args: &[&str]) -> Result<Output, String> {
    let output = Command::new("ip")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `ip`: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// True when process `pid` still exists.
fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// A bridge, its subnet and the namespaces attached to it.
pub struct Lab {
    /// Third octet of this lab's addresses.
    subnet: u8,
    bridge: String,
    /// Namespace names, by host index.
    namespaces: Vec<String>,
}

impl Lab {
    /// Makes a lab of `hosts` namespaces (at most 250), each with its address on `eth0`,
    /// loopback up, and a route to the others through the bridge.
    ///
    /// Fails, with a message that says why, when namespaces cannot be made here (not root,
    /// no `ip`, a kernel without namespaces): the caller skips. Panics if namespaces can be
    /// made but the lab cannot be set up.
    pub fn new(hosts: usize) -> Result<Lab, String> {
        if hosts == 0 || hosts > 250 {
            return Err(format!("a lab has 1 to 250 hosts, not {hosts}"));
        }
        let pid = std::process::id();
        let serial = LABS.fetch_add(1, Ordering::Relaxed);
        // Probe first: a clear reason beats a half-made lab.
        let probe = format!("povprobe{pid}x{serial}");
        ip(&["netns", "add", &probe])
            .map_err(|e| format!("cannot create network namespaces ({e}); run as root"))?;
        let _ = ip(&["netns", "del", &probe]);

        // From here on, a failure is a bug or a broken machine, not a reason to skip.
        let (subnet, bridge) = Self::claim_subnet(pid).unwrap_or_else(|e| panic!("{e}"));
        let mut lab = Lab {
            subnet,
            bridge,
            namespaces: Vec::new(),
        };
        let bridge_addr = format!("{}/24", lab.addr_of(BRIDGE_HOST));
        let setup = ip(&["addr", "add", &bridge_addr, "dev", &lab.bridge])
            .and_then(|_| ip(&["link", "set", &lab.bridge, "up"]).map(|_| ()))
            .and_then(|()| (0..hosts).try_for_each(|host| lab.add_host(pid, serial, host)));
        if let Err(e) = setup {
            panic!("cannot set up the lab: {e}");
        }
        Ok(lab)
    }

    /// Creates the first free bridge `povbr<N>`, N in 0..250, removing labs whose owner died.
    fn claim_subnet(pid: u32) -> Result<(u8, String), String> {
        for subnet in 0..250u8 {
            let bridge = format!("povbr{subnet}");
            if ip(&["link", "add", &bridge, "type", "bridge"]).is_ok() {
                ip(&["link", "set", &bridge, "alias", &format!("pov-lab-{pid}")])?;
                return Ok((subnet, bridge));
            }
            // Taken: by a live lab, or by one whose process was killed.
            let shown = ip(&["-o", "link", "show", &bridge]).map(|o| o.stdout);
            let owner = shown.ok().and_then(|text| {
                let text = String::from_utf8_lossy(&text).to_string();
                text.split("pov-lab-")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|p| p.parse::<u32>().ok())
            });
            if let Some(owner) = owner {
                if owner != pid && !alive(owner) {
                    Self::remove_stale(owner, &bridge);
                    if ip(&["link", "add", &bridge, "type", "bridge"]).is_ok() {
                        ip(&["link", "set", &bridge, "alias", &format!("pov-lab-{pid}")])?;
                        return Ok((subnet, bridge));
                    }
                }
            }
        }
        Err("no free lab subnet: 250 labs exist".into())
    }

    /// Deletes a dead process's bridge and namespaces.
    fn remove_stale(owner: u32, bridge: &str) {
        let prefix = format!("pov{owner}x");
        if let Ok(out) = ip(&["netns", "list"]) {
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some(name) = line.split_whitespace().next() {
                    if name.starts_with(&prefix) {
                        let _ = ip(&["netns", "del", name]);
                    }
                }
            }
        }
        let _ = ip(&["link", "del", bridge]);
    }

    fn add_host(&mut self, pid: u32, serial: u32, host: usize) -> Result<(), String> {
        let ns = format!("pov{pid}x{serial}h{host}");
        ip(&["netns", "add", &ns])?;
        self.namespaces.push(ns.clone());
        // Interface names have at most 15 characters.
        let outside = format!("pv{}h{host}", self.subnet);
        // A link of this name can only be left over from a dead lab of this subnet (its
        // namespace kept alive by a stray process): it goes.
        let _ = ip(&["link", "del", &outside]);
        ip(&[
            "link", "add", &outside, "type", "veth", "peer", "name", "eth0", "netns", &ns,
        ])?;
        ip(&["link", "set", &outside, "master", &self.bridge])?;
        ip(&["link", "set", &outside, "up"])?;
        let addr = format!("{}/24", self.ip(host));
        ip(&["-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
        ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
        ip(&["-n", &ns, "link", "set", "lo", "up"])?;
        Ok(())
    }

    fn addr_of(&self, last: u8) -> String {
        format!("{PREFIX}.{}.{last}", self.subnet)
    }

    /// The bridge's address: the test's own side of the network.
    pub fn bridge_ip(&self) -> String {
        self.addr_of(BRIDGE_HOST)
    }

    /// Host `host`'s address on the impaired overlay (see [`crate::impair`]).
    pub fn overlay_ip(&self, host: usize) -> String {
        format!(
            "{OVERLAY_PREFIX}.{}.{}",
            self.subnet,
            u8::try_from(host + 1).unwrap_or(250)
        )
    }

    /// Runs `ip ARGS` inside host `host`'s namespace.
    pub fn ip_in(&self, host: usize, args: &[&str]) -> Result<(), String> {
        let mut all = vec!["-n", self.namespace(host)];
        all.extend_from_slice(args);
        ip(&all).map(|_| ())
    }

    /// How many hosts the lab has.
    pub fn hosts(&self) -> usize {
        self.namespaces.len()
    }

    /// Host `host`'s IPv4 address.
    pub fn ip(&self, host: usize) -> String {
        // Host addresses start at .1; `new` keeps `host` below 250.
        self.addr_of(u8::try_from(host + 1).unwrap_or(250))
    }

    /// Host `host`'s namespace name.
    pub fn namespace(&self, host: usize) -> &str {
        &self.namespaces[host]
    }

    /// A command that runs `program` inside host `host`'s namespace (its process id is the
    /// program's own: `ip netns exec` replaces itself with it).
    pub fn command(&self, host: usize, program: &Path) -> Command {
        let mut command = Command::new("ip");
        command
            .args(["netns", "exec", self.namespace(host)])
            .arg(program);
        command
    }

    /// Cuts every link between the hosts of `a` and those of `b` (in both directions):
    /// packets between them are dropped, as on a broken network, while each host still
    /// reaches the test and the hosts of its own side.
    pub fn partition(&self, a: &[usize], b: &[usize]) -> Result<(), String> {
        for &x in a {
            for &y in b {
                self.blackhole(x, y, "add")?;
                self.blackhole(y, x, "add")?;
            }
        }
        Ok(())
    }

    /// Restores every link cut by [`Lab::partition`].
    pub fn heal(&self) -> Result<(), String> {
        for host in 0..self.hosts() {
            let ns = self.namespace(host).to_string();
            let out = ip(&["-n", &ns, "route", "show", "type", "blackhole"])?;
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some(dest) = line.split_whitespace().nth(1) {
                    ip(&["-n", &ns, "route", "del", "blackhole", dest])?;
                }
            }
        }
        Ok(())
    }

    fn blackhole(&self, from: usize, to: usize, action: &str) -> Result<(), String> {
        let dest = format!("{}/32", self.ip(to));
        ip(&[
            "-n",
            self.namespace(from),
            "route",
            action,
            "blackhole",
            &dest,
        ])
        .map(|_| ())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in &self.namespaces {
            let _ = ip(&["netns", "del", ns]);
        }
        let _ = ip(&["link", "del", &self.bridge]);
    }
}
