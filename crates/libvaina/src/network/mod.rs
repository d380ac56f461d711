//! Networking (later issue): bridge networks over netlink, nftables rules, IP leases, DNS.
