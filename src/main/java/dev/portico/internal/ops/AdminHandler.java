package dev.portico.internal.ops;

import dev.portico.config.ReloadResult;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Answers the admin endpoint's requests; one per connection, on the admin event loop. */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger LOG = LoggerFactory.getLogger("portico");
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final Operations ops;
    private final AdminAccess access;
    private final Dashboard dashboard;
    private final AdminLogin login;
    /**
     * Requests pipelined behind a reload, a purge or a password check under way: answered in order once its answer
     * is written (HTTP/1.1 answers in request order). Touched only on the admin event loop.
     */
    private final ArrayDeque<FullHttpRequest> waiting = new ArrayDeque<>();
    private boolean reloading;
    /** The connection carries the event stream now: nothing more is read from it as a request. */
    private boolean streaming;

    AdminHandler(Operations ops, AdminAccess access, Dashboard dashboard, AdminLogin login) {
        this.ops = ops;
        this.access = access;
        this.dashboard = dashboard;
        this.login = login;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (streaming) {
            return;
        }
        if (reloading) {
            ctx.channel().config().setAutoRead(false);
            waiting.add(req.retain());
            return;
        }
        handle(ctx, req);
    }

    private void handle(ChannelHandlerContext ctx, FullHttpRequest req) {
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        if (!req.decoderResult().isSuccess()) {
            send(ctx, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad request\n", false);
            return;
        }
        String path = req.uri();
        int q = path.indexOf('?');
        if (q >= 0) {
            path = path.substring(0, q);
        }
        CompletableFuture<AdminAccess.Refusal> gate = access.check(req, path);
        if (gate.isDone()) {
            answer(ctx, req, path, keepAlive, gate.join());
            return;
        }
        reloading = true; // a password is being checked: hold what follows, as behind a reload (same flag)
        req.retain();
        String p = path;
        gate.whenComplete((refusal, e) -> ctx.executor().execute(() -> {
            reloading = false;
            try {
                answer(ctx, req, p, keepAlive, e == null ? refusal : AdminAccess.Refusal.BUSY);
            } finally {
                req.release();
            }
            answerWaiting(ctx);
        }));
    }

    private void answer(ChannelHandlerContext ctx, FullHttpRequest req, String path, boolean keepAlive,
                        AdminAccess.Refusal refusal) {
        if (refusal == AdminAccess.Refusal.LOGIN) {
            write(ctx, login.page(HttpResponseStatus.UNAUTHORIZED, "", keepAlive), keepAlive);
            return;
        }
        if (refusal != null) {
            FullHttpResponse res = response(refusal.status(), "text/plain", refusal.body(), keepAlive);
            if (refusal.challenge() != null) {
                res.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, refusal.challenge());
            }
            write(ctx, res, keepAlive);
            return;
        }
        HttpMethod method = req.method();
        switch (path) {
            case "/healthz" -> {
                if (get(ctx, method, keepAlive)) {
                    send(ctx, HttpResponseStatus.OK, "text/plain", "ok\n", keepAlive);
                }
            }
            case "/readyz" -> {
                if (get(ctx, method, keepAlive)) {
                    boolean ready = ops.ready();
                    send(ctx, ready ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE, "text/plain",
                            ready ? "ready\n" : "not ready\n", keepAlive);
                }
            }
            case "/metrics" -> {
                if (get(ctx, method, keepAlive)) {
                    String accept = req.headers().get(HttpHeaderNames.ACCEPT);
                    boolean open = accept != null && accept.contains("application/openmetrics-text");
                    // OpenMetrics when the scraper asks for it: only that format carries the exemplars.
                    send(ctx, HttpResponseStatus.OK, open ? OPENMETRICS_TEXT : PROMETHEUS_TEXT,
                            open ? ops.scrape(accept) : ops.scrape(), keepAlive);
                }
            }
            case "/config" -> {
                if (get(ctx, method, keepAlive)) {
                    send(ctx, HttpResponseStatus.OK, "application/json", ops.configJson() + "\n", keepAlive);
                }
            }
            case "/reload" -> {
                if (!method.equals(HttpMethod.POST)) {
                    notAllowed(ctx, "POST", keepAlive);
                    return;
                }
                reloading = true;
                ops.reload("POST /reload").whenComplete((r, e) -> ctx.executor().execute(() -> {
                    if (e != null) {
                        LOG.error("reload failed", e);
                        send(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain", "reload failed\n",
                                keepAlive);
                    } else {
                        send(ctx, r.applied() ? HttpResponseStatus.OK : HttpResponseStatus.BAD_REQUEST,
                                "application/json", json(r), keepAlive);
                    }
                    reloading = false;
                    answerWaiting(ctx);
                }));
            }
            case "/cache/purge" -> {
                if (!method.equals(HttpMethod.POST)) {
                    notAllowed(ctx, "POST", keepAlive);
                    return;
                }
                reloading = true; // what follows waits for the purge's answer, as behind a reload (same flag)
                ops.purgeCache(req.content().toString(StandardCharsets.UTF_8)).whenComplete((r, e) ->
                        ctx.executor().execute(() -> {
                            Throwable cause = e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
                            if (cause == null) {
                                send(ctx, HttpResponseStatus.OK, "application/json", r + "\n", keepAlive);
                            } else if (cause instanceof IllegalArgumentException bad) {
                                send(ctx, HttpResponseStatus.BAD_REQUEST, "text/plain", bad.getMessage() + "\n",
                                        keepAlive);
                            } else {
                                LOG.error("cache purge failed", cause);
                                send(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain", "purge failed\n",
                                        keepAlive);
                            }
                            reloading = false;
                            answerWaiting(ctx);
                        }));
            }
            case "/login" -> {
                if (method.equals(HttpMethod.POST)) {
                    reloading = true; // what follows waits for the password check, as behind a reload
                    login.login(req, keepAlive).whenComplete((res, e) -> ctx.executor().execute(() -> {
                        if (e != null) {
                            LOG.error("admin: sign-in failed", e);
                            send(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "text/plain", "sign-in failed\n",
                                    keepAlive);
                        } else {
                            write(ctx, res, keepAlive);
                        }
                        reloading = false;
                        answerWaiting(ctx);
                    }));
                } else if (get(ctx, method, keepAlive)) {
                    write(ctx, login.form(req, keepAlive), keepAlive);
                }
            }
            case "/login.css" -> {
                if (get(ctx, method, keepAlive)) {
                    write(ctx, login.css(keepAlive), keepAlive);
                }
            }
            case "/logout" -> {
                if (!method.equals(HttpMethod.POST)) {
                    notAllowed(ctx, "POST", keepAlive);
                    return;
                }
                write(ctx, login.logout(req, keepAlive), keepAlive);
            }
            case "/session" -> {
                if (get(ctx, method, keepAlive)) {
                    String user = login.user(req, ops.adminAuth());
                    StringBuilder json = new StringBuilder("{\"cookie\":").append(user != null);
                    if (user != null) {
                        ConfigJson.string(json.append(",\"user\":"), user);
                    }
                    send(ctx, HttpResponseStatus.OK, "application/json", json.append("}\n").toString(), keepAlive);
                }
            }
            case Dashboard.EVENTS -> {
                if (get(ctx, method, keepAlive)) {
                    streaming = true;
                    dashboard.subscribe(ctx);
                    login.watch(ctx, req);
                }
            }
            default -> {
                FullHttpResponse page = method.equals(HttpMethod.GET) ? dashboard.asset(path, keepAlive) : null;
                if (page != null) {
                    write(ctx, page, keepAlive);
                } else {
                    send(ctx, HttpResponseStatus.NOT_FOUND, "text/plain",
                            "not found; try / (the dashboard), /healthz /readyz /metrics /config, or POST /reload "
                                    + "or /cache/purge or /login or /logout\n",
                            keepAlive);
                }
            }
        }
    }

    private void answerWaiting(ChannelHandlerContext ctx) {
        FullHttpRequest next;
        while (!reloading && (next = waiting.poll()) != null) {
            try {
                handle(ctx, next);
            } finally {
                next.release();
            }
        }
        if (!reloading && ctx.channel().isActive()) {
            ctx.channel().config().setAutoRead(true);
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        FullHttpRequest r;
        while ((r = waiting.poll()) != null) {
            r.release();
        }
    }

    private boolean get(ChannelHandlerContext ctx, HttpMethod method, boolean keepAlive) {
        if (method.equals(HttpMethod.GET)) {
            return true;
        }
        notAllowed(ctx, "GET", keepAlive);
        return false;
    }

    private void notAllowed(ChannelHandlerContext ctx, String allow, boolean keepAlive) {
        FullHttpResponse res = response(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain",
                "method not allowed\n", keepAlive);
        res.headers().set(HttpHeaderNames.ALLOW, allow);
        write(ctx, res, keepAlive);
    }

    static String json(ReloadResult r) {
        StringBuilder sb = new StringBuilder("{\"applied\":").append(r.applied()).append(",\"millis\":")
                .append(r.millis()).append(",\"cpu_millis\":").append(r.cpuMillis()).append(",\"problems\":[");
        List<String> p = r.problems();
        for (int i = 0; i < p.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            ConfigJson.string(sb, p.get(i));
        }
        return sb.append("]}\n").toString();
    }

    private static void send(ChannelHandlerContext ctx, HttpResponseStatus status, String type, String body,
                             boolean keepAlive) {
        write(ctx, response(status, type, body, keepAlive), keepAlive);
    }

    static FullHttpResponse response(HttpResponseStatus status, String type, String body, boolean keepAlive) {
        FullHttpResponse res = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
        res.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, res.content().readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, "no-store");
        HttpUtil.setKeepAlive(res, keepAlive);
        return res;
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse res, boolean keepAlive) {
        if (!ctx.channel().isActive()) {
            res.release();
            return;
        }
        if (keepAlive) {
            ctx.writeAndFlush(res, ctx.voidPromise());
        } else {
            ctx.writeAndFlush(res).addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("admin connection error", cause);
        ctx.close();
    }
}
