//! Which addresses trackses delivers to: https to a host that is public once resolved. A
//! customer names the URL, so an attacker can name `http://169.254.169.254/` (the Lambda
//! metadata and credentials endpoint), a VPC address, or a name whose DNS answers with one; each
//! is refused, at registration for what the URL itself says and at every connection for what
//! DNS answers then (`PublicResolver`), so a name re-pointed after registration gains nothing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Longer URLs are refused rather than stored and signed over.
pub const MAX_URL_LENGTH: usize = 2048;

/// Where deliveries may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Deployed: https to public addresses only.
    Public,
    /// `make dev` and the tests: also plain http to this machine's loopback, where their
    /// receivers listen. Never set by the template.
    PublicOrLoopback,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("the URL is longer than {MAX_URL_LENGTH} characters")]
    TooLong,
    #[error("the URL cannot be parsed")]
    Unparsable,
    #[error("the URL must use https")]
    NotHttps,
    #[error("the URL must not carry a user name or password")]
    Credentials,
    #[error("the URL names no host")]
    NoHost,
    #[error("`{0}` is not a public address")]
    NotPublic(String),
    #[error("`{0}` resolves to no address")]
    Unresolvable(String),
}

/// `raw` as a URL trackses may deliver to under `reach`, or why not. A host name is checked
/// again, address by address, each time it is connected to.
pub fn check_url(raw: &str, reach: Reach) -> Result<Url, AddressError> {
    if raw.len() > MAX_URL_LENGTH {
        return Err(AddressError::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| AddressError::Unparsable)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(AddressError::Credentials);
    }
    let host = url.host().ok_or(AddressError::NoHost)?;
    let loopback = match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    };
    let local = reach == Reach::PublicOrLoopback && loopback;
    match url.scheme() {
        "https" => {}
        "http" if local => {}
        _ => return Err(AddressError::NotHttps),
    }
    let literal = match host {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        // A name is judged by what it resolves to, when it is connected to.
        Host::Domain(_) => None,
    };
    match literal {
        Some(ip) if !reach.allows(ip) => Err(AddressError::NotPublic(ip.to_string())),
        _ => Ok(url),
    }
}

impl Reach {
    /// `PublicOrLoopback` where the deployment says loopback is allowed (`make dev`, tests).
    pub fn with_loopback(allowed: bool) -> Reach {
        if allowed {
            Reach::PublicOrLoopback
        } else {
            Reach::Public
        }
    }

    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self == Reach::PublicOrLoopback && ip.is_loopback())
    }
}

/// Whether `ip` is an address on the public internet: not private, loopback, link-local (the
/// metadata endpoints), shared (carrier NAT), multicast, reserved or set aside for documentation,
/// and for IPv6 only global unicast, with an embedded IPv4 address judged as that address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let [first, second, ..] = v6.segments();
            let global_unicast = first & 0xe000 == 0x2000;
            // 2001::/23: IETF protocol assignments (Teredo, ORCHID…); 2001:db8::/32:
            // documentation; 2002::/16: 6to4, which embeds an IPv4 address of any kind.
            let special =
                (first == 0x2001 && (second < 0x0200 || second == 0x0db8)) || first == 0x2002;
            global_unicast && !special
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0
        || a == 10
        || a == 127
        // Multicast, reserved and broadcast.
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 169 && b == 254)
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113);
    !special
}

/// The HTTP client's resolver: a name resolves only if every address it has is allowed, so a
/// connection is never made to one that is not (reqwest connects to what this returns; there
/// is no second lookup to race).
#[derive(Debug, Clone, Copy)]
pub struct PublicResolver(pub Reach);

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let reach = self.0;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| AddressError::Unresolvable(host.clone()))?
                .collect();
            if addresses.is_empty() {
                return Err(AddressError::Unresolvable(host).into());
            }
            if let Some(refused) = addresses.iter().find(|a| !reach.allows(a.ip())) {
                return Err(AddressError::NotPublic(format!("{host} ({})", refused.ip())).into());
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

impl PublicResolver {
    pub fn shared(reach: Reach) -> Arc<PublicResolver> {
        Arc::new(PublicResolver(reach))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_and_special_addresses_are_refused() {
        for ip in [
            "0.0.0.0",
            "10.1.2.3",
            "100.64.0.1",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.192",
            "192.168.1.1",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "fd00:ec2::254",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "2001:db8::1",
            "2002:a9fe:a9fe::1",
            "2001::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "1.1.1.1",
            "52.94.236.248",
            "172.32.0.1",
            "2600:1f18::1",
            "::ffff:8.8.8.8",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn only_https_to_a_public_host_passes_when_deployed() {
        assert!(check_url("https://hooks.example.com/ses?x=1", Reach::Public).is_ok());
        for (url, error) in [
            ("http://hooks.example.com/", AddressError::NotHttps),
            ("ftp://hooks.example.com/", AddressError::NotHttps),
            ("http://127.0.0.1:8080/", AddressError::NotHttps),
            (
                "https://169.254.169.254/latest/meta-data/",
                AddressError::NotPublic("169.254.169.254".into()),
            ),
            ("https://[::1]/", AddressError::NotPublic("::1".into())),
            (
                "https://user:pass@hooks.example.com/",
                AddressError::Credentials,
            ),
            ("not a url", AddressError::Unparsable),
            ("data:text/plain,hi", AddressError::NoHost),
        ] {
            assert_eq!(check_url(url, Reach::Public), Err(error), "{url}");
        }
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LENGTH));
        assert_eq!(check_url(&long, Reach::Public), Err(AddressError::TooLong));
    }

    #[test]
    fn local_runs_also_reach_loopback_over_http_and_nothing_else_private() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://localhost:1/",
            "https://[::1]:9/",
        ] {
            assert!(check_url(url, Reach::PublicOrLoopback).is_ok(), "{url}");
        }
        for url in [
            "http://10.0.0.1/",
            "http://example.com/",
            "https://169.254.169.254/",
        ] {
            assert!(check_url(url, Reach::PublicOrLoopback).is_err(), "{url}");
        }
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_when_deployed() {
        let refused = PublicResolver(Reach::Public)
            .resolve("localhost".parse().unwrap())
            .await;
        assert!(refused.is_err());
        let local = PublicResolver(Reach::PublicOrLoopback)
            .resolve("localhost".parse().unwrap())
            .await;
        assert!(local.is_ok());
    }
}
