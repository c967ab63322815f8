/** IP addresses and CIDR prefixes for per-IP rate limits. */
export { IpAddress, parseIp, Cidr, parseCidr, hostFromAddress } from "./ip";
