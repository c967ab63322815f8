export { lowerAscii, indexOfAsciiCaseless, asciiMatches } from "./ascii";
export { decodeUtf8, decodeUtf8Recent } from "./utf8";
export { RecentByIdentity } from "./by-identity";
