package dev.portico.internal.cache;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.Date;

/**
 * A response made from a stored entry for one request: the stored one with its current {@code Age}, a 304 when the
 * request's own conditionals match (RFC 9110 section 13), or a 206 for a single byte range of a stored 200 (section
 * 14). The body wraps the entry's arrays without copying them.
 */
final class HitResponse {
    private HitResponse() {
    }

    /**
     * @param e the entry
     * @param now the time now
     * @param request the request's fields
     * @param withConditionals whether the request's conditionals and range are evaluated
     * @param stripVia whether to drop the stored {@code Via} (the exchange adds its own again)
     * @return the response
     */
    static FullHttpResponse build(Entry e, long now, HttpHeaders request, boolean withConditionals,
                                  boolean stripVia) {
        HttpHeaders h = new DefaultHttpHeaders().add(e.headers);
        h.set(HttpHeaderNames.AGE, Long.toString(e.age(now)));
        h.remove("surrogate-control"); // meant for this cache alone
        if (stripVia) {
            h.remove(HttpHeaderNames.VIA);
        }
        if (withConditionals && notModified(e, request)) {
            h.remove(HttpHeaderNames.CONTENT_LENGTH);
            return response(HttpResponseStatus.NOT_MODIFIED, Unpooled.EMPTY_BUFFER, h);
        }
        ByteBuf body = e.body.length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(e.body);
        String range = withConditionals && e.status == 200 ? request.get(HttpHeaderNames.RANGE) : null;
        if (range != null && ifRangeHolds(e, request.get(HttpHeaderNames.IF_RANGE))) {
            long[] r = Ranges.single(range, e.bodyLength);
            if (r != null && r.length == 0) {
                h.set(HttpHeaderNames.CONTENT_RANGE, "bytes */" + e.bodyLength);
                h.set(HttpHeaderNames.CONTENT_LENGTH, "0");
                body.release();
                return response(HttpResponseStatus.REQUESTED_RANGE_NOT_SATISFIABLE, Unpooled.EMPTY_BUFFER, h);
            }
            if (r != null) {
                int len = (int) (r[1] - r[0] + 1);
                h.set(HttpHeaderNames.CONTENT_RANGE, "bytes " + r[0] + "-" + r[1] + "/" + e.bodyLength);
                h.set(HttpHeaderNames.CONTENT_LENGTH, Integer.toString(len));
                return response(HttpResponseStatus.PARTIAL_CONTENT, body.slice((int) r[0], len), h);
            }
        }
        h.set(HttpHeaderNames.CONTENT_LENGTH, Long.toString(e.bodyLength));
        return response(HttpResponseStatus.valueOf(e.status), body, h);
    }

    private static FullHttpResponse response(HttpResponseStatus status, ByteBuf body, HttpHeaders h) {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body, h, new DefaultHttpHeaders());
    }

    /** RFC 9110 sections 13.1.2 and 13.1.3, for GET and HEAD: If-None-Match first, else If-Modified-Since. */
    static boolean notModified(Entry e, HttpHeaders request) {
        if (e.status != 200) {
            return false;
        }
        String inm = request.get(HttpHeaderNames.IF_NONE_MATCH);
        if (inm != null) {
            String etag = e.headers.get(HttpHeaderNames.ETAG);
            for (String candidate : request.getAll(HttpHeaderNames.IF_NONE_MATCH)) {
                for (String t : candidate.split(",")) {
                    String tag = t.trim();
                    if (tag.equals("*") || etag != null && weak(tag).equals(weak(etag))) {
                        return true;
                    }
                }
            }
            return false;
        }
        String ims = request.get(HttpHeaderNames.IF_MODIFIED_SINCE);
        if (ims == null) {
            return false;
        }
        Date since = DateFormatter.parseHttpDate(ims);
        String lm = e.headers.get(HttpHeaderNames.LAST_MODIFIED);
        Date modified = lm != null ? DateFormatter.parseHttpDate(lm) : null;
        if (modified == null) {
            String date = e.headers.get(HttpHeaderNames.DATE);
            modified = date == null ? null : DateFormatter.parseHttpDate(date);
        }
        return since != null && modified != null && !modified.after(since);
    }

    private static String weak(String tag) {
        return tag.startsWith("W/") ? tag.substring(2) : tag;
    }

    /** RFC 9110 section 13.1.5: a strong ETag equal to the entry's, or a date equal to its Last-Modified. */
    private static boolean ifRangeHolds(Entry e, String ifRange) {
        if (ifRange == null) {
            return true;
        }
        String v = ifRange.trim();
        if (v.startsWith("\"")) {
            String etag = e.headers.get(HttpHeaderNames.ETAG);
            return etag != null && etag.equals(v);
        }
        String lm = e.headers.get(HttpHeaderNames.LAST_MODIFIED);
        return lm != null && lm.equals(v);
    }
}
