export { lowerAscii } from "./ascii";
