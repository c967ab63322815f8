export { lowerAscii } from "./ascii";
export { decodeUtf8 } from "./utf8";
