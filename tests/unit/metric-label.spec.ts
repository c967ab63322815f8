/// <reference path="./as-pect.d.ts" />
// Unit tests of trafficLabel: how a model or consumer from traffic becomes one segment of a stat name.
import { trafficLabel, MAX_LABEL_LENGTH } from "../../shared/runtime/metric-label";

describe("trafficLabel", () => {
  it("keeps letters, digits and - _ : / @, and returns a short clean value itself", () => {
    const clean = "qwen-max";
    expect(changetype<usize>(trafficLabel(clean))).toBe(changetype<usize>(clean));
    expect(trafficLabel("Qwen/Qwen2-72B-Instruct")).toBe("Qwen/Qwen2-72B-Instruct");
    expect(trafficLabel("claude-3-5-sonnet@20240620")).toBe("claude-3-5-sonnet@20240620");
    expect(trafficLabel("llama3:8b_q4")).toBe("llama3:8b_q4");
    expect(trafficLabel("ABCXYZabcxyz0189")).toBe("ABCXYZabcxyz0189");
    expect(trafficLabel("")).toBe("");
  });

  it("turns a . into _, so that a label never opens a segment of its own", () => {
    expect(trafficLabel("Qwen/Qwen2.5-72B")).toBe("Qwen/Qwen2_5-72B");
    expect(trafficLabel("qwen2.5:7b")).toBe("qwen2_5:7b");
    expect(trafficLabel("x.consumer.aliyun-admin.metric.y")).toBe("x_consumer_aliyun-admin_metric_y");
  });

  it("turns every other character into _: spaces, controls, quotes, |, non-ASCII, each UTF-16 unit once", () => {
    expect(trafficLabel("a b\tc\nd")).toBe("a_b_c_d");
    expect(trafficLabel('"x";{y}|z=1,2+3%4\\')).toBe("_x___y__z_1_2_3_4_");
    expect(trafficLabel("\u0000\u007f")).toBe("__");
    expect(trafficLabel("通义千问")).toBe("____");
    expect(trafficLabel("gpt-😀")).toBe("gpt-__");
    // The characters around each kept range.
    expect(trafficLabel(",-./09:;?@AZ[^_`az{")).toBe("_-_/09:__@AZ____az_");
  });

  it("cuts a long value to MAX_LABEL_LENGTH characters, clean or not", () => {
    expect(MAX_LABEL_LENGTH).toBe(128);
    expect(trafficLabel("m".repeat(500 * 1024))).toBe("m".repeat(MAX_LABEL_LENGTH));
    expect(trafficLabel("m".repeat(MAX_LABEL_LENGTH))).toBe("m".repeat(MAX_LABEL_LENGTH));
    expect(trafficLabel("m".repeat(MAX_LABEL_LENGTH + 1))).toBe("m".repeat(MAX_LABEL_LENGTH));
    expect(trafficLabel("a.".repeat(100))).toBe("a_".repeat(MAX_LABEL_LENGTH / 2));
    // Whatever follows the cut is not read: a bad character past it changes nothing.
    expect(trafficLabel("n".repeat(MAX_LABEL_LENGTH) + ".x")).toBe("n".repeat(MAX_LABEL_LENGTH));
  });
});
