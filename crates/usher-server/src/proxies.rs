//! The client's address behind trusted proxies.
//!
//! Forwarding headers are whatever the sender wrote, so they are read only when the socket
//! peer is a configured proxy, and then only as far as the chain of trusted hops goes: walking
//! `X-Forwarded-For` (or `Forwarded`) from the right, the first address that is not a trusted
//! proxy is the client. Everything to its left could have been forged by that client.

use std::net::IpAddr;

use axum::http::{HeaderMap, header};
use ipnet::IpNet;

/// The client's address as the accept loop resolved it ([`TrustedProxies::client_ip`]), put in
/// each request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// The CIDRs of proxies whose forwarding headers are believed; empty by default, so a direct
/// client cannot pick its own rate-limit bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.0/8`-style CIDRs; a bare address is a single host.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, String> {
        let mut nets = Vec::new();
        for item in items {
            let text = item.as_ref().trim();
            let net = text
                .parse::<IpNet>()
                .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{text:?} is not a CIDR like 10.0.0.0/8 or an IP address"))?;
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// Whether `ip` is one of the trusted proxies (IPv4-mapped IPv6 counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client's address for a request that came from `peer` with `headers`.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        // `Forwarded` is the standard (RFC 7239); a proxy that writes it is preferred over the
        // de-facto `X-Forwarded-For`, never both mixed.
        let hops = if headers.contains_key(header::FORWARDED) {
            forwarded_hops(headers)
        } else {
            x_forwarded_for_hops(headers)
        };
        let mut client = peer;
        for hop in hops.iter().rev() {
            // A hop a trusted proxy could not name (`unknown`, garbage) ends the walk: the
            // last address known is the best there is.
            let Some(ip) = hop else { break };
            client = canonical(*ip);
            if !self.contains(client) {
                break;
            }
        }
        client
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Every `X-Forwarded-For` entry, left to right across repeated headers.
fn x_forwarded_for_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("?").split(','))
        .map(|item| parse_node(item.trim()))
        .collect()
}

/// The `for=` of every `Forwarded` element, left to right.
fn forwarded_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let mut hops = Vec::new();
    for value in headers.get_all(header::FORWARDED) {
        let Ok(text) = value.to_str() else {
            hops.push(None);
            continue;
        };
        for element in text.split(',') {
            let node = element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("for").then(|| value.trim())
            });
            // An element without `for=` says nothing about the client; it is skipped.
            if let Some(node) = node {
                hops.push(parse_node(node.trim_matches('"')));
            }
        }
    }
    hops
}

/// `1.2.3.4`, `1.2.3.4:5678`, `[2001:db8::1]:4711` or `2001:db8::1`; anything else is `None`.
fn parse_node(node: &str) -> Option<IpAddr> {
    if let Ok(ip) = node.parse() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(trusted.client_ip(ip("203.0.113.9"), &h), ip("203.0.113.9"));
        assert_eq!(TrustedProxies::default().client_ip(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "192.168.1.1"]).unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7"), ("x-forwarded-for", "10.1.2.3")]);
        assert_eq!(trusted.client_ip(ip("192.168.1.1"), &h), ip("203.0.113.7"));
        let forwarded =
            headers(&[("forwarded", "for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.2:80")]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &forwarded), ip("2001:db8::7"));
        // Only trusted hops: the leftmost one is the best known.
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &headers(&[("x-forwarded-for", "10.0.0.5")])), ip("10.0.0.5"));
        // No header at all: the proxy itself.
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
    }

    #[test]
    fn an_unreadable_hop_stops_the_walk() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, unknown, 10.0.0.3")]);
        assert_eq!(trusted.client_ip(ip("10.0.0.1"), &h), ip("10.0.0.3"));
        assert_eq!(trusted.client_ip(ip("::ffff:10.0.0.1"), &headers(&[("forwarded", "for=5.5.5.5")])), ip("5.5.5.5"));
    }

    #[test]
    fn bad_cidrs_are_refused() {
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
        assert!(TrustedProxies::parse(&["example.com"]).is_err());
        assert!(TrustedProxies::parse(&["::1", "fd00::/8"]).is_ok());
    }
}
