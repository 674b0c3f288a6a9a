package org.cityguide.guide

import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.ConnectException
import java.net.HttpURLConnection
import java.net.NoRouteToHostException
import java.net.SocketTimeoutException
import java.net.URL
import java.net.UnknownHostException
import org.cityguide.ffi.HttpMethod
import org.cityguide.ffi.HttpRequest
import org.cityguide.ffi.HttpResponse
import org.cityguide.ffi.Transport
import org.cityguide.ffi.TransportException

/**
 * The core's [Transport] on the JDK's [HttpURLConnection], which every Android version and every JVM has.
 *
 * It sends the byte range the core asks for, never reads more than `maxResponseBytes` (a longer body fails with
 * [TransportException.TooLarge] after reading one byte too many, not the whole body), applies `timeoutMs` to connecting
 * and to every read, and reports HTTP error statuses as responses. An OkHttp implementation maps one to one onto the
 * same request and response records.
 *
 * @param configure called on every connection before it is opened (for a User-Agent, a proxy, certificate pinning...).
 */
class HttpUrlConnectionTransport(
    private val configure: (HttpURLConnection) -> Unit = {},
) : Transport {
    override fun send(request: HttpRequest): HttpResponse {
        val connection = try {
            URL(request.url).openConnection() as HttpURLConnection
        } catch (e: IOException) {
            throw TransportException.Other("cannot open a connection: ${e.javaClass.simpleName}")
        } catch (e: ClassCastException) {
            throw TransportException.Other("only http and https are supported")
        }
        try {
            val timeout = request.timeoutMs.toLong().coerceIn(1, Int.MAX_VALUE.toLong()).toInt()
            connection.connectTimeout = timeout
            connection.readTimeout = timeout
            connection.useCaches = false
            connection.instanceFollowRedirects = true
            // Ranges count bytes of the stored file: no transparent compression.
            connection.setRequestProperty("Accept-Encoding", "identity")
            request.range?.let { r ->
                val last = r.start + maxOf(r.length, 1uL) - 1uL
                connection.setRequestProperty("Range", "bytes=${r.start}-$last")
            }
            for (h in request.headers) connection.setRequestProperty(h.name, h.value)
            when (request.method) {
                HttpMethod.GET -> connection.requestMethod = "GET"
                HttpMethod.POST -> {
                    connection.requestMethod = "POST"
                    connection.doOutput = true
                    request.contentType?.let { connection.setRequestProperty("Content-Type", it) }
                    val body = request.body ?: ByteArray(0)
                    connection.setFixedLengthStreamingMode(body.size)
                    configure(connection)
                    connection.outputStream.use { it.write(body) }
                }
            }
            if (request.method == HttpMethod.GET) configure(connection)
            val status = connection.responseCode
            val stream: InputStream? = if (status >= 400) connection.errorStream else connection.inputStream
            val body = stream?.use { readCapped(it, request.maxResponseBytes) } ?: ByteArray(0)
            return HttpResponse(status.toUShort(), body, totalSize(connection, status))
        } catch (e: TransportException) {
            throw e
        } catch (e: SocketTimeoutException) {
            throw TransportException.Timeout()
        } catch (e: UnknownHostException) {
            throw TransportException.Offline()
        } catch (e: ConnectException) {
            throw TransportException.Offline()
        } catch (e: NoRouteToHostException) {
            throw TransportException.Offline()
        } catch (e: IOException) {
            throw TransportException.Other("${e.javaClass.simpleName}: ${e.message ?: "no details"}")
        } finally {
            connection.disconnect()
        }
    }

    private fun readCapped(input: InputStream, max: ULong): ByteArray {
        val out = ByteArrayOutputStream()
        val buffer = ByteArray(64 * 1024)
        var total = 0uL
        while (true) {
            val n = input.read(buffer)
            if (n < 0) break
            total += n.toULong()
            if (total > max) throw TransportException.TooLarge(max)
            out.write(buffer, 0, n)
        }
        return out.toByteArray()
    }

    private fun totalSize(connection: HttpURLConnection, status: Int): ULong? {
        connection.getHeaderField("Content-Range")?.let { range ->
            return range.substringAfterLast('/').trim().toULongOrNull()
        }
        if (status == 200) return connection.getHeaderField("Content-Length")?.trim()?.toULongOrNull()
        return null
    }
}
