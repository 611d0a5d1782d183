package dev.portico.policy;

/** The head of a response on its way to the client: its status and changeable header fields. */
public interface ResponseHead {
    /** @return the status code */
    int status();

    /** @return the header fields; changes reach the client */
    Headers headers();

    /**
     * @return whether Portico made this response (a policy's local response or one of Portico's own error
     *     responses) rather than a backend
     */
    boolean local();
}
