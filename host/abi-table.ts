/** The host calls Envoy registers and the callbacks it looks up, with their wasm signatures. */
import type { HostMode } from "./stream-api.ts";

const i = "i32";
const I = "i64";
const sig = (params: string[], results: string[] = [i]) => `(${params.join(",")})->(${results.join(",")})`;
const n = (count: number) => Array<string>(count).fill(i);

/** proxy_* calls of ABI 0.2.1 registered by every Envoy build. */
export const COMMON_IMPORTS: Record<string, string> = {
  proxy_log: sig(n(3)),
  proxy_get_log_level: sig(n(1)),
  proxy_get_current_time_nanoseconds: sig(n(1)),
  proxy_set_tick_period_milliseconds: sig(n(1)),
  proxy_get_buffer_bytes: sig(n(5)),
  proxy_get_buffer_status: sig(n(3)),
  proxy_set_buffer_bytes: sig(n(5)),
  proxy_get_header_map_value: sig(n(5)),
  proxy_get_header_map_pairs: sig(n(3)),
  proxy_set_header_map_pairs: sig(n(3)),
  proxy_add_header_map_value: sig(n(5)),
  proxy_replace_header_map_value: sig(n(5)),
  proxy_remove_header_map_value: sig(n(3)),
  proxy_get_header_map_size: sig(n(2)),
  proxy_get_property: sig(n(4)),
  proxy_set_property: sig(n(4)),
  proxy_continue_stream: sig(n(1)),
  proxy_close_stream: sig(n(1)),
  proxy_send_local_response: sig(n(8)),
  proxy_set_effective_context: sig(n(1)),
  proxy_done: sig([]),
  proxy_get_status: sig(n(3)),
  proxy_define_metric: sig(n(4)),
  proxy_increment_metric: sig([i, I]),
  proxy_record_metric: sig([i, I]),
  proxy_get_metric: sig(n(2)),
  proxy_get_shared_data: sig(n(5)),
  proxy_set_shared_data: sig(n(5)),
  proxy_register_shared_queue: sig(n(3)),
  proxy_resolve_shared_queue: sig(n(5)),
  proxy_enqueue_shared_queue: sig(n(3)),
  proxy_dequeue_shared_queue: sig(n(3)),
  proxy_http_call: sig(n(10)),
  proxy_call_foreign_function: sig(n(6)),
  proxy_grpc_call: sig(n(12)),
  proxy_grpc_stream: sig(n(9)),
  proxy_grpc_send: sig(n(4)),
  proxy_grpc_cancel: sig(n(1)),
  proxy_grpc_close: sig(n(1)),
};

/** Registered only by Higress's Envoy build. */
export const HIGRESS_IMPORTS: Record<string, string> = {
  proxy_redis_init: sig(n(7)),
  proxy_redis_call: sig(n(5)),
  proxy_inject_encoded_data_to_filter_chain: sig(n(3)),
  proxy_get_upstream_hosts: sig(n(2)),
  proxy_set_upstream_override_host: sig(n(2)),
};

/**
 * The WASI calls Envoy registers (under both module names), with proxy-wasm-cpp-host's signatures
 * (exports.h): where they differ from the WASI spec, a module importing the spec's form fails to
 * link in Envoy, so it does here too. path_link takes 6 words (the spec has 7), path_symlink 4 (5).
 */
export const WASI_IMPORTS: Record<string, string> = {
  fd_write: sig(n(4)),
  fd_read: sig(n(4)),
  fd_seek: sig([i, I, i, i]),
  fd_close: sig(n(1)),
  fd_fdstat_get: sig(n(2)),
  fd_fdstat_set_flags: sig(n(2)),
  fd_fdstat_set_rights: sig([i, I, I]),
  environ_get: sig(n(2)),
  environ_sizes_get: sig(n(2)),
  args_get: sig(n(2)),
  args_sizes_get: sig(n(2)),
  clock_time_get: sig([i, I, i]),
  clock_res_get: sig(n(2)),
  fd_advise: sig([i, I, I, i]),
  fd_allocate: sig([i, I, I]),
  fd_datasync: sig(n(1)),
  fd_filestat_set_size: sig([i, I]),
  fd_filestat_set_times: sig([i, I, I, i]),
  fd_pread: sig([i, i, i, I, i]),
  fd_pwrite: sig([i, i, i, I, i]),
  fd_readdir: sig([i, i, i, I, i]),
  fd_renumber: sig(n(2)),
  fd_sync: sig(n(1)),
  fd_tell: sig(n(2)),
  path_create_directory: sig(n(3)),
  path_filestat_set_times: sig([i, i, i, i, I, I, i]),
  path_link: sig(n(6)),
  path_readlink: sig(n(6)),
  path_remove_directory: sig(n(3)),
  path_rename: sig(n(6)),
  path_symlink: sig(n(4)),
  path_unlink_file: sig(n(3)),
  sock_accept: sig(n(3)),
  sock_recv: sig(n(6)),
  sock_send: sig(n(5)),
  sock_shutdown: sig(n(2)),
  random_get: sig(n(2)),
  sched_yield: sig([]),
  poll_oneoff: sig(n(4)),
  proc_exit: sig(n(1), []),
  path_open: sig([i, i, i, i, i, I, I, i, i]),
  fd_prestat_get: sig(n(2)),
  fd_prestat_dir_name: sig(n(3)),
  path_filestat_get: sig(n(5)),
  fd_filestat_get: sig(n(2)),
};

/** Higress's fork declares path_rename with 5 words, upstream (and the spec) with 6. */
const HIGRESS_WASI_IMPORTS: Record<string, string> = { ...WASI_IMPORTS, path_rename: sig(n(5)) };

/** Callbacks Envoy looks up, with the signature it checks ("Bad function signature for: X"). */
export const EXPORTS: Record<string, string> = {
  malloc: sig(n(1)),
  proxy_on_memory_allocate: sig(n(1)),
  _initialize: sig([], []),
  _start: sig([], []),
  main: sig(n(2)),
  proxy_on_context_create: sig(n(2), []),
  proxy_on_vm_start: sig(n(2)),
  proxy_validate_configuration: sig(n(2)),
  proxy_on_configure: sig(n(2)),
  proxy_on_tick: sig(n(1), []),
  proxy_on_queue_ready: sig(n(2), []),
  proxy_on_foreign_function: sig(n(3), []),
  proxy_on_request_headers: sig(n(3)),
  proxy_on_request_body: sig(n(3)),
  proxy_on_request_trailers: sig(n(2)),
  proxy_on_request_metadata: sig(n(2)),
  proxy_on_response_headers: sig(n(3)),
  proxy_on_response_body: sig(n(3)),
  proxy_on_response_trailers: sig(n(2)),
  proxy_on_response_metadata: sig(n(2)),
  proxy_on_log: sig(n(1), []),
  proxy_on_done: sig(n(1)),
  proxy_on_delete: sig(n(1), []),
  proxy_on_http_call_response: sig(n(5), []),
  proxy_on_redis_call_response: sig(n(4), []),
};

export const ABI_MARKERS = ["proxy_abi_version_0_2_100", "proxy_abi_version_0_2_1", "proxy_abi_version_0_2_0", "proxy_abi_version_0_1_0"];

/** The import set for a mode, keyed "module.name". */
export function registeredImports(mode: HostMode): Map<string, string> {
  const out = new Map<string, string>();
  const proxy = mode === "higress" ? { ...COMMON_IMPORTS, ...HIGRESS_IMPORTS } : COMMON_IMPORTS;
  for (const [name, s] of Object.entries(proxy)) out.set(`env.${name}`, s);
  for (const [name, s] of Object.entries(mode === "higress" ? HIGRESS_WASI_IMPORTS : WASI_IMPORTS)) {
    out.set(`wasi_snapshot_preview1.${name}`, s);
    out.set(`wasi_unstable.${name}`, s);
  }
  return out;
}
