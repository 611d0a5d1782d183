package dev.portico.config;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/** Reads the {@code http2:} section for {@link YamlConfigLoader}, whose problem list it reports to. */
final class Http2ConfigReader {
    private static final List<String> HTTP2_KEYS = List.of("max_concurrent_streams", "max_header_list_size",
            "max_resets", "reset_window", "max_small_continuation_frames", "max_queued_control_frames",
            "max_control_frames_per_second");

    private final YamlConfigLoader y;

    Http2ConfigReader(YamlConfigLoader loader) {
        this.y = loader;
    }

    Http2Config read(Object node) {
        if (node == null) {
            return Http2Config.DEFAULTS;
        }
        Map<String, Object> m = y.mapping(node, "http2", HTTP2_KEYS);
        if (m == null) {
            return null;
        }
        int before = y.problemCount();
        long[] v = {Http2Config.DEFAULT_MAX_CONCURRENT_STREAMS, Http2Config.DEFAULT_MAX_HEADER_LIST_SIZE,
            Http2Config.DEFAULT_MAX_RESETS, 0, Http2Config.DEFAULT_MAX_SMALL_CONTINUATION_FRAMES,
            Http2Config.DEFAULT_MAX_QUEUED_CONTROL_FRAMES, Http2Config.DEFAULT_MAX_CONTROL_FRAMES_PER_SECOND};
        Duration window = Http2Config.DEFAULT_RESET_WINDOW;
        for (int i = 0; i < HTTP2_KEYS.size(); i++) {
            String key = HTTP2_KEYS.get(i);
            String path = "http2." + key;
            if (!m.containsKey(key)) {
                continue;
            }
            if (key.equals("reset_window")) {
                Duration d = y.text(m.get(key), path, "whole seconds such as 30s", YamlConfigLoader::parseDuration);
                window = d == null ? null : y.convert(path, () -> {
                    Http2Config.checkResetWindow(d);
                    return d;
                });
                continue;
            }
            Long value = key.equals("max_header_list_size") ? y.size(m.get(key), path) : y.count(m.get(key), path);
            if (value != null && y.convert(path, () -> {
                Http2Config.check(key, value);
                return value;
            }) != null) {
                v[i] = value;
            }
        }
        if (y.problemCount() != before) {
            return null;
        }
        Duration w = window;
        return y.build("http2", HTTP2_KEYS, () -> new Http2Config((int) v[0], v[1], (int) v[2], w, (int) v[4],
                (int) v[5], (int) v[6]));
    }
}
